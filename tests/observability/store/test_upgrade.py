"""A store made before the environment column: it gets the column, and its rollups are made
again from the stored spans with the same totals."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy import inspect, text

from bench._spans import generate_spans
from observability.queries import TraceQueries, Window
from observability.store import create_store_engine, prepare_store
from observability.store.rows import span_to_row
from observability.store.writer import SqlSpanWriter

START = datetime(2026, 10, 1, tzinfo=UTC)
WINDOW = Window(START, START + timedelta(days=2))


def test_an_earlier_store_gets_the_environment_and_keeps_its_totals(postgres_url: str) -> None:
    schema = f"u_{uuid.uuid4().hex[:10]}"
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    engine = create_store_engine(f"{postgres_url}?options=-csearch_path%3D{schema}")
    dialect = prepare_store(engine, compress_after_days=7, drop_after_days=90)
    rows = [span_to_row(s) for s in generate_spans(1_500, seed=3, start=START, days=2)]
    SqlSpanWriter(engine, dialect).write(rows)
    before = TraceQueries(engine).summary(WINDOW)
    with engine.begin() as conn:
        for table in ("spans", "traces", "span_rollup_hour", "span_rollup_spender_hour"):
            conn.execute(text(f"ALTER TABLE {table} DROP COLUMN environment CASCADE"))
        conn.execute(text("DROP INDEX ix_spans_name"))

    prepare_store(engine, compress_after_days=7, drop_after_days=90)

    found = inspect(engine)
    assert "environment" in {c["name"] for c in found.get_columns("spans")}
    assert "ix_spans_name" in {i["name"] for i in found.get_indexes("spans")}
    after = TraceQueries(engine).summary(WINDOW)
    for column in ("requests", "cost_usd", "p95_ms"):
        assert after[column].iloc[0] == pytest.approx(before[column].iloc[0]), column
    more = [span_to_row(s) for s in generate_spans(200, seed=4, start=START, days=1)]
    SqlSpanWriter(engine, dialect).write(more)
    requests = TraceQueries(engine).summary(WINDOW)["requests"].iloc[0]
    assert requests == before["requests"].iloc[0] + sum(r.operation == "chat" for r in more)
    engine.dispose()
