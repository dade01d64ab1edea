"""Engines for the app database, and the idempotent schema set-up run at every start."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import Engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.schema import CreateColumn
from sqlmodel import SQLModel, create_engine

from core.db import models as _models  # noqa: F401  (registers the tables on SQLModel.metadata)
from core.errors import SettingsError, StorageError
from core.settings import redact_url

log = logging.getLogger(__name__)

INSUFFICIENT_PRIVILEGE = "42501"
"""PostgreSQL's SQLSTATE for "permission denied"."""


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever driver the URL names (``postgres://`` too)."""
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def create_db_engine(url: str, *, setting: str = "DATABASE_URL") -> Engine:
    """An engine for ``url``; a SQLite file's folder is created. Raises ``SettingsError``."""
    try:
        parsed = make_url(normalise_url(url))
    except (ArgumentError, ValueError) as exc:  # ValueError: a port that is not a number
        raise SettingsError(
            f"{setting} is not a database URL: {redact_url(url)!r} ({exc})."
        ) from exc
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _make_folder(Path(parsed.database).parent, setting)
        engine = create_engine(parsed, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        parsed,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=10,
        connect_args={"connect_timeout": 5},
    )


def check_connection(engine: Engine, *, setting: str = "DATABASE_URL") -> None:
    """Raise ``StorageError``, one sentence naming ``setting``, if the database does not answer."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        reason = _first_line(exc)
        if engine.dialect.name == "sqlite":
            raise StorageError(
                f"The SQLite file {engine.url.database} could not be opened ({reason}); set "
                f"DATA_DIR to a folder this user can write, or {setting} to a database server."
            ) from exc
        raise StorageError(
            f"{setting} points to {redact_url(engine.url.render_as_string(hide_password=False))}, "
            f"which did not answer ({reason}). Start that database, or unset {setting} to use "
            "the built-in SQLite file."
        ) from exc


def init_schema(engine: Engine) -> list[str]:
    """Create missing tables and add missing columns; safe to run at every start.

    Returns what it changed, e.g. ``["created table users", "added column messages.error"]``.
    Existing rows are never touched. Raises ``StorageError`` naming ``DATABASE_URL``.
    """
    changes: list[str] = []
    try:
        existing = set(inspect(engine).get_table_names())
        SQLModel.metadata.create_all(engine)
        changes += [
            f"created table {name}" for name in SQLModel.metadata.tables if name not in existing
        ]
        changes += _add_missing_columns(engine, existing)
    except SQLAlchemyError as exc:
        raise StorageError(_schema_refused(engine, exc)) from exc
    for change in changes:
        log.info("schema: %s", change)
    return changes


def _schema_refused(engine: Engine, exc: SQLAlchemyError) -> str:
    url = engine.url
    reason = _first_line(exc)
    if getattr(getattr(exc, "orig", None), "sqlstate", None) == INSUFFICIENT_PRIVILEGE:
        return (
            f"DATABASE_URL connects as user {url.username!r}, which may not create or alter "
            f"tables in database {url.database!r} ({reason}); grant that user CREATE on that "
            "schema, or point DATABASE_URL at a database it owns."
        )
    return f"DATABASE_URL: database {url.database!r} refused the schema set-up ({reason})."


def _make_folder(folder: Path, setting: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingsError(
            f"The SQLite database folder {folder} cannot be created ({exc.strerror or exc}); "
            f"set DATA_DIR to a folder this user can write, or {setting} to a database server."
        ) from exc


def _add_missing_columns(engine: Engine, existing_tables: set[str]) -> list[str]:
    inspector = inspect(engine)
    changes = []
    with engine.begin() as conn:
        for table in SQLModel.metadata.sorted_tables:
            if table.name not in existing_tables:
                continue
            present = {column["name"] for column in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name in present:
                    continue
                ddl = CreateColumn(column).compile(dialect=engine.dialect)
                conn.execute(text(f'ALTER TABLE "{table.name}" ADD COLUMN {_nullable(str(ddl))}'))
                changes.append(f"added column {table.name}.{column.name}")
    return changes


def _nullable(column_ddl: str) -> str:
    """An added column must accept the rows already there, so drop NOT NULL."""
    return column_ddl.replace(" NOT NULL", "")


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _first_line(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    return (
        str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__
    )
