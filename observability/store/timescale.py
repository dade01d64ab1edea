"""TimescaleDB: ``spans`` as a hypertable with compression and retention, rollups as
continuous aggregates kept fresh by policies.

Everything here is generated SQL (``timescale_statements``), run in order by ``prepare_store``
when the server offers the extension; tests check the statements themselves.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, literal_column, select
from sqlalchemy.dialects import postgresql

from observability.store.rollups import call_metrics, dimension_columns, rollup_filter
from observability.store.schema import CALL_DIMENSIONS, SPENDER_DIMENSIONS, spans

CONTINUOUS_AGGREGATES: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "span_rollup_minute": ("1 minute", CALL_DIMENSIONS, True),
    "span_rollup_hour": ("1 hour", CALL_DIMENSIONS, True),
    "span_rollup_spender_hour": ("1 hour", SPENDER_DIMENSIONS, False),
}
"""View name → (bucket width, key columns, with latency histograms); same columns as the tables."""
_REFRESH = {
    "1 minute": ("2 hours", "1 minute", "1 minute"),
    "1 hour": ("3 days", "1 hour", "15 minutes"),
}
"""Bucket width → (start offset, end offset, schedule) of its refresh policy."""


def timescale_statements(*, compress_after_days: int, drop_after_days: int) -> list[str]:
    """The idempotent DDL that turns the plain ``spans`` table into the TimescaleDB layout."""
    statements = [
        "CREATE EXTENSION IF NOT EXISTS timescaledb",
        "SELECT create_hypertable('spans', 'start_time', chunk_time_interval => INTERVAL "
        "'1 day', if_not_exists => TRUE, migrate_data => TRUE)",
        "ALTER TABLE spans SET (timescaledb.compress, timescaledb.compress_segmentby = "
        "'provider', timescaledb.compress_orderby = 'start_time DESC, trace_id, span_id')",
        "SELECT remove_compression_policy('spans', if_exists => TRUE)",
        f"SELECT add_compression_policy('spans', INTERVAL '{int(compress_after_days)} days')",
        "SELECT remove_retention_policy('spans', if_exists => TRUE)",
        f"SELECT add_retention_policy('spans', INTERVAL '{int(drop_after_days)} days')",
    ]
    for name, (width, keys, histograms) in CONTINUOUS_AGGREGATES.items():
        statements += _continuous_aggregate(name, width, keys, histograms=histograms)
    return statements


def _continuous_aggregate(
    name: str, width: str, keys: tuple[str, ...], *, histograms: bool
) -> list[str]:
    query = _compile(_aggregate_query(width, keys, histograms=histograms))
    start, end, every = _REFRESH[width]
    return [
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS {name} WITH (timescaledb.continuous) AS "
        f"{query} WITH NO DATA",
        f"ALTER MATERIALIZED VIEW {name} SET (timescaledb.materialized_only = false)",
        f"SELECT add_continuous_aggregate_policy('{name}', start_offset => INTERVAL '{start}', "
        f"end_offset => INTERVAL '{end}', schedule_interval => INTERVAL '{every}', "
        "if_not_exists => TRUE)",
    ]


def _aggregate_query(width: str, keys: tuple[str, ...], *, histograms: bool) -> Select[Any]:
    dimensions = dimension_columns()
    bucket = func.time_bucket(literal_column(f"INTERVAL '{width}'"), spans.c.start_time)
    columns = [bucket.label("bucket"), *(dimensions[key].label(key) for key in keys)]
    return (
        select(*columns, *call_metrics(histograms=histograms))
        .where(rollup_filter())
        .group_by(*(literal_column(c.name) for c in columns))
    )


def _compile(query: Select[Any]) -> str:
    compiled = query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    return " ".join(str(compiled).split())
