"""Opening the trace store: pick the dialect and create what is missing, idempotently."""

from __future__ import annotations

import logging

from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError

from observability.store.dialect import StoreDialect, detect_dialect
from observability.store.schema import PLAIN_TABLES, metadata, spans, traces
from observability.store.timescale import timescale_statements

logger = logging.getLogger("observability.store")


TEXT_INDEX = "ix_spans_text"
"""The optional trigram index behind the trace list's text search (PostgreSQL only)."""
TEXT_INDEX_EXPRESSION = "((name || ' ' || attributes) COLLATE \"C\")"
"""What it indexes: a span's name and attributes, as the text search reads them."""


def prepare_store(
    engine: Engine, *, compress_after_days: int, drop_after_days: int, text_index: bool = False
) -> StoreDialect:
    """Create the store's tables (and on TimescaleDB its hypertable, policies and continuous
    aggregates) unless they exist; returns the dialect the writer and queries should use.

    ``text_index`` adds a trigram index for text search on PostgreSQL: a rare string is then
    found at once over any window, at the price of writing spans three to four times slower.

    A store first created on plain PostgreSQL keeps its rollup tables (and this dialect) even
    once TimescaleDB is installed: move to a fresh database to switch.
    """
    dialect = detect_dialect(engine)
    if dialect is StoreDialect.TIMESCALEDB and inspect(engine).has_table("span_rollup_minute"):
        logger.warning("trace store has plain rollup tables; TimescaleDB features stay off")
        dialect = StoreDialect.POSTGRESQL
    if dialect is not StoreDialect.TIMESCALEDB:
        metadata.create_all(engine, tables=list(PLAIN_TABLES))
    else:
        metadata.create_all(engine, tables=[spans, traces])
        with engine.begin() as conn:
            for statement in timescale_statements(
                compress_after_days=compress_after_days, drop_after_days=drop_after_days
            ):
                conn.execute(text(statement))
    if text_index and dialect.is_postgres:
        _create_text_index(engine)
    return dialect


def _create_text_index(engine: Engine) -> None:
    """The trigram index, if ``pg_trgm`` can be had; without it text search scans instead."""
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
            schema = conn.execute(
                text("SELECT extnamespace::regnamespace FROM pg_extension WHERE extname = :name"),
                {"name": "pg_trgm"},
            ).scalar_one()
            conn.execute(
                text(
                    f"CREATE INDEX IF NOT EXISTS {TEXT_INDEX} ON spans "
                    f"USING gin ({TEXT_INDEX_EXPRESSION} {schema}.gin_trgm_ops)"
                )
            )
    except DBAPIError as exc:
        logger.warning("no text index (text search will scan): %s", str(exc.orig).strip())
