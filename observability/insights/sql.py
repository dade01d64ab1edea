"""What the insight queries share: reading a number out of a span's JSON attributes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Engine, Float, cast, func, literal_column, text
from sqlalchemy.dialects.postgresql import JSONB

from observability.store.dialect import StoreDialect


def store_dialect(engine: Engine) -> StoreDialect:
    """SQLite or PostgreSQL (TimescaleDB reads like PostgreSQL here)."""
    return StoreDialect.SQLITE if engine.dialect.name == "sqlite" else StoreDialect.POSTGRESQL


def json_number(dialect: StoreDialect, column: Any, key: str) -> ColumnElement[Any]:
    """The number under ``key`` in a JSON text column (NULL when absent)."""
    if dialect is StoreDialect.SQLITE:
        return cast(func.json_extract(column, f'$."{key}"'), Float)
    return cast(cast(column, JSONB).op("->>")(literal_column(f"'{_quoted(key)}'")), Float)


def json_text(dialect: StoreDialect, column: Any, key: str) -> ColumnElement[Any]:
    """The text under ``key`` in a JSON text column (NULL when absent)."""
    if dialect is StoreDialect.SQLITE:
        return func.json_extract(column, f'$."{key}"')
    return cast(column, JSONB).op("->>")(literal_column(f"'{_quoted(key)}'"))


def work_mem(dialect: StoreDialect) -> Any:
    """A statement giving the transaction room to hash and sort in memory (PostgreSQL)."""
    return text("SET LOCAL work_mem = '64MB'") if dialect.is_postgres else None


def _quoted(key: str) -> str:
    return key.replace("'", "''")
