"""Bulk writing of span rows: COPY on PostgreSQL (psycopg 3), executemany on SQLite.

One batch is one transaction: the spans, their traces and (except on TimescaleDB, whose
continuous aggregates do it) the rollups. A batch is either written whole or not at all, so the
exporter can retry it as is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, Table, func, insert

from observability.store.dialect import StoreDialect, largest, smallest, upsert
from observability.store.rollups import RollupBatch
from observability.store.schema import (
    SPAN_COLUMNS,
    rollup_hour,
    rollup_minute,
    rollup_spenders,
    spans,
    traces,
)

_COPY_SPANS = f"COPY spans ({', '.join(SPAN_COLUMNS)}) FROM STDIN"


class SpanWriter(Protocol):
    """Writes one batch of ``spans`` rows in one transaction, or raises."""

    def write(self, rows: Sequence[dict[str, Any]]) -> None:
        """Write all of ``rows`` or none of them."""
        ...


class SqlSpanWriter:
    """The trace store's writer for SQLite, PostgreSQL and TimescaleDB."""

    def __init__(self, engine: Engine, dialect: StoreDialect) -> None:
        self._engine = engine
        self._dialect = dialect
        name = engine.dialect.name
        updates = {traces.name: _trace_update(name)}
        updates |= {t.name: _sum_update(t) for t in (rollup_minute, rollup_hour, rollup_spenders)}
        tables = {t.name: t for t in (traces, rollup_minute, rollup_hour, rollup_spenders)}
        self._upserts = {
            n: upsert(tables[n], name, _keys(tables[n]), update) for n, update in updates.items()
        }
        self._staged = {
            n: upsert(tables[n], name, _keys(tables[n]), update, from_table=f"stage_{n}")
            for n, update in updates.items()
        } if dialect.is_postgres else {}  # fmt: skip

    def write(self, rows: Sequence[dict[str, Any]]) -> None:
        """Write ``rows`` and what they add to traces and rollups, in one transaction."""
        if not rows:
            return
        batch = RollupBatch()
        for row in rows:
            batch.add(row)
        with self._engine.begin() as conn:
            if self._dialect.is_postgres:
                _copy_spans(conn, rows)
            else:
                conn.execute(insert(spans), list(rows))
            merges = [(traces, batch.trace_rows())]
            if self._dialect is not StoreDialect.TIMESCALEDB:
                minute, hour = batch.call_rollups()
                merges += [
                    (rollup_minute, minute),
                    (rollup_hour, hour),
                    (rollup_spenders, batch.spender_rollup()),
                ]
            for table, merged in merges:
                self._merge(conn, table, merged)

    def _merge(self, conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
        """Upsert ``rows``; on PostgreSQL through a COPY-filled temporary table (far faster
        than a many-row INSERT for the wide rollup rows)."""
        if not rows:
            return
        if not self._dialect.is_postgres:
            conn.execute(self._upserts[table.name], rows)
            return
        names = list(rows[0])
        driver: Any = conn.connection.driver_connection
        with driver.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS stage_{table.name} "
                f"(LIKE {table.name} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
            )
            with cursor.copy(f"COPY stage_{table.name} ({', '.join(names)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(list(row.values()))
        conn.execute(self._staged[table.name])


def _copy_spans(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    driver: Any = conn.connection.driver_connection
    with driver.cursor() as cursor, cursor.copy(_COPY_SPANS) as copy:
        for row in rows:
            copy.write_row([row[name] for name in SPAN_COLUMNS])


def _keys(table: Table) -> list[str]:
    return [column.name for column in table.primary_key.columns]


def _sum_update(table: Table) -> dict[str, Any]:
    keys = set(_keys(table))
    return {
        column.name: lambda old, new: old + new
        for column in table.columns
        if column.name not in keys
    }


def _trace_update(dialect_name: str) -> dict[str, Any]:
    def add(old: Any, new: Any) -> Any:
        return old + new

    def keep(old: Any, new: Any) -> Any:
        return func.coalesce(old, new)

    def add_money(old: Any, new: Any) -> Any:
        return func.coalesce(old + new, old, new)

    return {
        "start_time": lambda old, new: smallest(dialect_name, old, new),
        "end_time": lambda old, new: largest(dialect_name, old, new),
        "root_name": lambda old, new: keep(new, old),
        "service": keep,
        "span_count": add,
        "call_count": add,
        "error_count": add,
        "input_tokens": add,
        "output_tokens": add,
        "cost_usd": add_money,
        "provider": keep,
        "model": keep,
        "conversation_id": keep,
        "user_id": keep,
    }
