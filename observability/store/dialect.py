"""Where SQLite, PostgreSQL and TimescaleDB differ: one enum and a few helpers, nothing else.

Queries and writers ask these helpers (``upsert``, ``smallest``/``largest``, ``truncate_time``,
``array_items``)
instead of branching on the backend themselves.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, assert_never

from sqlalchemy import (
    JSON,
    Engine,
    Select,
    Table,
    cast,
    create_engine,
    event,
    func,
    select,
    text,
    type_coerce,
)
from sqlalchemy import column as sql_column
from sqlalchemy import table as sql_table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.dml import Insert
from sqlalchemy.types import TypeEngine

from observability.store.errors import TraceStoreError

logger = logging.getLogger("observability.store")

TIMESCALEDB_LOADER_SETTING = "timescaledb.bgw_launcher_poll_time"
"""A setting that only TimescaleDB's preloaded loader defines: set in every session exactly when
the server preloads the library (it is readable without privileges, unlike
``shared_preload_libraries``)."""
TimeUnit = Literal["minute", "hour", "day"]
_SQLITE_FORMATS: dict[str, str] = {
    "minute": "%Y-%m-%d %H:%M:00.000000",
    "hour": "%Y-%m-%d %H:00:00.000000",
    "day": "%Y-%m-%d 00:00:00.000000",
}


class StoreDialect(StrEnum):
    """The kind of database holding the trace store."""

    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"
    TIMESCALEDB = "timescaledb"

    @property
    def is_postgres(self) -> bool:
        """PostgreSQL, with or without TimescaleDB."""
        return self is not StoreDialect.SQLITE


def normalise_store_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever driver the URL names."""
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def create_store_engine(url: str) -> Engine:
    """An engine for the trace store at ``url`` (``sqlite:///…`` or ``postgresql[+psycopg]://…``)."""
    try:
        parsed = make_url(normalise_store_url(url))
    except ArgumentError as exc:
        raise TraceStoreError(f"The trace store URL {url!r} is not a database URL.") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if backend == "postgresql":
        return create_engine(parsed, pool_pre_ping=True, connect_args={"connect_timeout": 5})
    raise TraceStoreError(f"The trace store needs SQLite or PostgreSQL, not {backend!r}.")


def detect_dialect(engine: Engine) -> StoreDialect:
    """SQLITE; TIMESCALEDB when the server offers the extension and preloads its library
    (without the preload it cannot be created or used, so the store says why and uses plain
    PostgreSQL); else POSTGRESQL."""
    if engine.dialect.name == "sqlite":
        return StoreDialect.SQLITE
    with engine.connect() as conn:
        available, preloaded = conn.execute(
            text(
                "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'),"
                f" current_setting('{TIMESCALEDB_LOADER_SETTING}', true) IS NOT NULL"
            )
        ).one()
    if not available:
        return StoreDialect.POSTGRESQL
    if not preloaded:
        logger.warning(
            "TimescaleDB is installed on the server but not preloaded, so the trace store uses "
            "plain PostgreSQL; add timescaledb to shared_preload_libraries and restart the "
            "server to use it"
        )
        return StoreDialect.POSTGRESQL
    return StoreDialect.TIMESCALEDB


def upsert(
    table: Table,
    dialect_name: str,
    keys: list[str],
    update: dict[str, Any],
    *,
    from_table: str | None = None,
    from_select: Select[Any] | None = None,
) -> Insert:
    """``INSERT … ON CONFLICT (keys) DO UPDATE``; ``update`` maps columns to functions of
    ``(existing column, excluded column)`` returning the new value. With ``from_table`` the
    rows come from that (same-shaped) table instead of parameters, with ``from_select`` from
    that query (its columns named as the table's)."""
    module: Any = postgresql if dialect_name == "postgresql" else sqlite
    statement = module.insert(table)
    if from_table is not None:
        names = list(table.c.keys())
        source = sql_table(from_table, *(sql_column(n) for n in names))
        statement = statement.from_select(names, select(*source.c))
    if from_select is not None:
        statement = statement.from_select(
            [c.name for c in from_select.selected_columns], from_select
        )
    values = {
        name: combine(table.c[name], statement.excluded[name]) for name, combine in update.items()
    }
    upserted: Insert = statement.on_conflict_do_update(index_elements=keys, set_=values)
    return upserted


def smallest(dialect_name: str, a: ColumnElement[Any], b: ColumnElement[Any]) -> Any:
    """The smaller of two values (``least`` on PostgreSQL, scalar ``min`` on SQLite)."""
    return func.least(a, b) if dialect_name == "postgresql" else func.min(a, b)


def largest(dialect_name: str, a: ColumnElement[Any], b: ColumnElement[Any]) -> Any:
    """The larger of two values (``greatest`` on PostgreSQL, scalar ``max`` on SQLite)."""
    return func.greatest(a, b) if dialect_name == "postgresql" else func.max(a, b)


def truncate_time(
    dialect: StoreDialect, column: ColumnElement[Any], unit: TimeUnit, as_type: TypeEngine[Any]
) -> ColumnElement[Any]:
    """``column`` truncated to the start of its UTC minute, hour or day."""
    match dialect:
        case StoreDialect.SQLITE:
            truncated = func.strftime(_SQLITE_FORMATS[unit], column)
        case StoreDialect.POSTGRESQL | StoreDialect.TIMESCALEDB:
            truncated = func.date_trunc(unit, column, "UTC")
        case _:
            assert_never(dialect)
    return type_coerce(truncated, as_type)


def array_items(dialect: StoreDialect, attributes: Any, key: str) -> Any:
    """The items of an array attribute, as a table with a ``value`` column per span."""
    match dialect:
        case StoreDialect.SQLITE:
            return func.json_each(attributes, f'$."{key}"').table_valued("value")
        case StoreDialect.POSTGRESQL | StoreDialect.TIMESCALEDB:
            items = func.json_array_elements_text(cast(attributes, JSON())[key])
            return items.table_valued("value").lateral()
        case _:
            assert_never(dialect)


def _sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
