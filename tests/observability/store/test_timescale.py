"""TimescaleDB's statements, and the SQL that fills rollup tables from the spans (run here on
plain PostgreSQL against the rollups the writer keeps; ``test_timescale_store`` runs the rest
on a real TimescaleDB)."""

from __future__ import annotations

import pytest
from sqlalchemy import Table, select

from bench._spans import generate_spans
from observability.store import create_store_engine, prepare_store
from observability.store.dialect import TimeUnit
from observability.store.rows import span_to_row
from observability.store.schema import CALL_DIMENSIONS, ROLLUPS, SPENDER_DIMENSIONS
from observability.store.timescale import timescale_statements
from observability.store.upgrade import rollup_query
from observability.store.writer import SqlSpanWriter


@pytest.fixture
def dialect() -> str:
    """The rollup SQL is PostgreSQL's."""
    return "postgresql"


def test_statements_call_the_extension_by_its_schema_with_the_settings() -> None:
    ddl = "\n".join(timescale_statements("ts", compress_after_days=3, drop_after_days=45))
    assert "SELECT ts.create_hypertable('spans', 'start_time'" in ddl
    assert "ts.add_compression_policy('spans', INTERVAL '3 days')" in ddl
    assert "ts.add_retention_policy('spans', INTERVAL '45 days')" in ddl
    assert "MATERIALIZED VIEW" not in ddl


@pytest.mark.parametrize(
    ("table", "grain", "keys", "histograms"),
    [
        (ROLLUPS[0], "minute", CALL_DIMENSIONS, True),
        (ROLLUPS[1], "hour", CALL_DIMENSIONS, True),
        (ROLLUPS[2], "hour", SPENDER_DIMENSIONS, False),
        (ROLLUPS[3], "day", CALL_DIMENSIONS, True),
    ],
    ids=lambda v: getattr(v, "name", None),
)
def test_rollup_sql_equals_the_written_rollup(
    database_url: str, table: Table, grain: TimeUnit, keys: tuple[str, ...], histograms: bool
) -> None:
    engine = create_store_engine(database_url)
    dialect = prepare_store(engine, compress_after_days=7, drop_after_days=90)
    SqlSpanWriter(engine, dialect).write([span_to_row(s) for s in generate_spans(400, days=0.2)])
    order = ["bucket", *keys]
    computed_query = rollup_query(dialect, grain, keys, histograms=histograms).subquery()
    with engine.connect() as conn:
        computed = conn.execute(
            select(computed_query).order_by(*(computed_query.c[k] for k in order))
        ).all()
        written = conn.execute(select(table).order_by(*(table.c[k] for k in order))).all()
    engine.dispose()
    assert len(computed) == len(written) > 0
    for got, kept in zip(computed, written, strict=True):
        assert list(got) == [pytest.approx(v, rel=1e-9) if isinstance(v, float) else v
                             for v in kept]  # fmt: skip
