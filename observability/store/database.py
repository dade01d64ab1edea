"""Opening the trace store: pick the dialect and create what is missing, idempotently."""

from __future__ import annotations

import logging

from sqlalchemy import Engine, inspect, text

from observability.store.dialect import StoreDialect, detect_dialect
from observability.store.schema import PLAIN_TABLES, metadata, spans, traces
from observability.store.timescale import timescale_statements

logger = logging.getLogger("observability.store")


def prepare_store(
    engine: Engine, *, compress_after_days: int, drop_after_days: int
) -> StoreDialect:
    """Create the store's tables (and on TimescaleDB its hypertable, policies and continuous
    aggregates) unless they exist; returns the dialect the writer and queries should use.

    A store first created on plain PostgreSQL keeps its rollup tables (and this dialect) even
    once TimescaleDB is installed: move to a fresh database to switch.
    """
    dialect = detect_dialect(engine)
    if dialect is StoreDialect.TIMESCALEDB and inspect(engine).has_table("span_rollup_minute"):
        logger.warning("trace store has plain rollup tables; TimescaleDB features stay off")
        dialect = StoreDialect.POSTGRESQL
    if dialect is not StoreDialect.TIMESCALEDB:
        metadata.create_all(engine, tables=list(PLAIN_TABLES))
        return dialect
    metadata.create_all(engine, tables=[spans, traces])
    with engine.begin() as conn:
        for statement in timescale_statements(
            compress_after_days=compress_after_days, drop_after_days=drop_after_days
        ):
            conn.execute(text(statement))
    return dialect
