"""Export of filtered spans: every format parses back into the stored rows, the calls re-summed
give the dashboard's totals, and filters hold."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine

from bench._spans import generate_spans
from observability.export import ExportFormat, iter_export
from observability.queries import AnalyticsFilters, TraceQueries, Window
from observability.store import create_store_engine, prepare_store
from observability.store.rows import span_to_row
from observability.store.writer import SqlSpanWriter

START = datetime(2026, 10, 1, tzinfo=UTC)
WINDOW = Window(START, START + timedelta(days=2))
ROWS = [span_to_row(s) for s in generate_spans(2_000, seed=5, start=START, days=2)]


def _load(url: str) -> Engine:
    engine = create_store_engine(url)
    writer = SqlSpanWriter(engine, prepare_store(engine, compress_after_days=7, drop_after_days=90))
    writer.write(ROWS)
    return engine


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    if request.param == "sqlite":
        store = _load(f"sqlite:///{tmp_path_factory.mktemp('x') / 'traces.db'}")
    else:
        url = request.getfixturevalue("postgres_url")
        schema = f"x_{uuid.uuid4().hex[:10]}"
        plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        store = _load(f"{url}?options=-csearch_path%3D{schema}")
    yield store
    store.dispose()


def _records(engine: Engine, fmt: ExportFormat, filters: AnalyticsFilters) -> list[dict]:
    data = b"".join(iter_export(engine, WINDOW, filters, fmt, chunk_rows=300))
    match fmt:
        case ExportFormat.CSV:
            return list(csv.DictReader(io.StringIO(data.decode())))
        case ExportFormat.JSONL:
            return [json.loads(line) for line in data.decode().splitlines()]
        case ExportFormat.PARQUET:
            return pq.read_table(io.BytesIO(data)).to_pylist()


def _calls(records: list[dict]) -> list[dict]:
    return [r for r in records if r["operation"] and r["provider"]]


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_export_resummed_gives_the_dashboard_totals(engine: Engine, fmt: ExportFormat) -> None:
    records = _records(engine, fmt, AnalyticsFilters())
    summary = TraceQueries(engine).summary(WINDOW).iloc[0]
    calls = _calls(records)
    assert len(records) == len(ROWS)
    assert len(calls) == summary["requests"]
    cost = sum(float(r["cost_usd"]) for r in calls if r["cost_usd"] not in (None, ""))
    assert cost == pytest.approx(summary["cost_usd"])
    assert sum(int(r["output_tokens"] or 0) for r in calls) == summary["output_tokens"]


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_export_holds_only_the_filtered_spans(engine: Engine, fmt: ExportFormat) -> None:
    records = _records(engine, fmt, AnalyticsFilters(provider="anthropic", variant="treatment"))
    expected = [r for r in ROWS if r.provider == "anthropic" and r.variant == "treatment"]
    assert len(records) == len(expected) > 0
    assert {r["span_id"] for r in records} == {r.span_id for r in expected}


def test_an_empty_range_is_a_valid_file(engine: Engine) -> None:
    empty = Window(START - timedelta(days=9), START - timedelta(days=8))
    data = b"".join(iter_export(engine, empty, AnalyticsFilters(), ExportFormat.PARQUET))
    assert pq.read_table(io.BytesIO(data)).num_rows == 0
    text = b"".join(iter_export(engine, empty, AnalyticsFilters(), ExportFormat.CSV)).decode()
    assert text.startswith("trace_id,span_id,start_time")
    assert text.count("\n") == 1
