"""Opening the trace store: pick the dialect and create what is missing, idempotently."""

from __future__ import annotations

import logging

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from observability.insights.indexes import create_insight_indexes
from observability.store.dialect import StoreDialect, detect_dialect
from observability.store.schema import PLAIN_TABLES, metadata
from observability.store.timescale import prepare_timescale
from observability.store.upgrade import upgrade_store

logger = logging.getLogger("observability.store")


HYPERTABLES = "timescaledb_information.hypertables"
TEXT_INDEX = "ix_spans_text"
"""The optional trigram index behind the trace list's text search (PostgreSQL only)."""
TEXT_INDEX_EXPRESSION = "((name || ' ' || attributes) COLLATE \"C\")"
"""What it indexes: a span's name and attributes, as the text search reads them."""


def prepare_store(
    engine: Engine, *, compress_after_days: int, drop_after_days: int, text_index: bool = False
) -> StoreDialect:
    """Create the store's tables (and on TimescaleDB its hypertable and policies) unless they
    exist; returns the dialect the writer and queries should use.

    ``text_index`` adds a trigram index for text search on PostgreSQL: a rare string is then
    found at once over any window, at the price of writing spans three to four times slower.

    A store first created on plain PostgreSQL stays plain (its ``spans`` is no hypertable)
    even once TimescaleDB is installed: move to a fresh database to switch.
    """
    dialect = detect_dialect(engine)
    if dialect is StoreDialect.TIMESCALEDB and _is_plain_store(engine):
        logger.warning(
            "the trace store was created on plain PostgreSQL; TimescaleDB features stay off "
            "(point the store at a fresh database to use them)"
        )
        dialect = StoreDialect.POSTGRESQL
    if dialect is StoreDialect.TIMESCALEDB:
        with engine.begin() as conn:
            prepare_timescale(
                conn, compress_after_days=compress_after_days, drop_after_days=drop_after_days
            )
    else:
        metadata.create_all(engine, tables=list(PLAIN_TABLES))
    upgrade_store(engine, dialect)
    if text_index and dialect.is_postgres:
        _create_text_index(engine)
    create_insight_indexes(engine)
    return dialect


def _is_plain_store(engine: Engine) -> bool:
    """``spans`` exists and is an ordinary table (not a hypertable)."""
    with engine.connect() as conn:
        if conn.execute(text("SELECT to_regclass('spans')")).scalar() is None:
            return False
        if conn.execute(text("SELECT to_regclass(:name)"), {"name": HYPERTABLES}).scalar() is None:
            return True
        return not conn.execute(
            text(
                f"SELECT EXISTS (SELECT 1 FROM {HYPERTABLES} WHERE format('%I.%I', "
                "hypertable_schema, hypertable_name)::regclass = to_regclass('spans'))"
            )
        ).scalar()


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
