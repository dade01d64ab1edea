"""TimescaleDB DDL (no TimescaleDB here: the statements are checked, and the continuous
aggregates' SQL is run on plain PostgreSQL against the rollups the writer keeps)."""

from __future__ import annotations

from sqlalchemy import text

from bench._spans import generate_spans
from observability.store import create_store_engine, prepare_store
from observability.store.dialect import StoreDialect
from observability.store.rows import span_to_row
from observability.store.timescale import timescale_statements
from observability.store.writer import SqlSpanWriter


def test_statements_carry_the_settings_and_every_aggregate() -> None:
    ddl = "\n".join(timescale_statements(compress_after_days=3, drop_after_days=45))
    assert "create_hypertable('spans', 'start_time'" in ddl
    assert "add_compression_policy('spans', INTERVAL '3 days')" in ddl
    assert "add_retention_policy('spans', INTERVAL '45 days')" in ddl
    for view in ("span_rollup_minute", "span_rollup_hour", "span_rollup_spender_hour"):
        assert f"CREATE MATERIALIZED VIEW IF NOT EXISTS {view} WITH (timescaledb.continuous)" in ddl
        assert f"add_continuous_aggregate_policy('{view}'" in ddl


def test_aggregate_sql_equals_the_written_rollup(database_url: str) -> None:
    engine = create_store_engine(database_url)
    dialect = prepare_store(engine, compress_after_days=7, drop_after_days=90)
    if dialect is StoreDialect.SQLITE:
        return
    assert dialect is StoreDialect.POSTGRESQL
    SqlSpanWriter(engine, dialect).write([span_to_row(s) for s in generate_spans(400, days=0.2)])
    view = next(s for s in timescale_statements(compress_after_days=7, drop_after_days=90)
                if "VIEW IF NOT EXISTS span_rollup_hour" in s)  # fmt: skip
    query = view.split(" AS ", 1)[1].removesuffix(" WITH NO DATA")
    query = query.replace("time_bucket(INTERVAL '1 hour', spans.start_time)",
                          "date_trunc('hour', spans.start_time, 'UTC')")  # fmt: skip
    columns = "bucket, provider, model, experiment, variant, scenario"
    with engine.connect() as conn:
        computed = conn.execute(text(f"SELECT * FROM ({query}) q ORDER BY {columns}")).all()
        written = conn.execute(text(f"SELECT * FROM span_rollup_hour ORDER BY {columns}")).all()
    engine.dispose()
    assert len(computed) == len(written) > 0
    for got, kept in zip(computed, written, strict=True):
        assert [round(float(v), 6) if isinstance(v, float) else v for v in got[6:]] == [
            round(float(v), 6) if isinstance(v, float) else v for v in kept[6:]
        ]
