"""Bulk writing of span rows: COPY on PostgreSQL (psycopg 3), executemany on SQLite.

One batch is one transaction: the spans, their traces and the rollups (on TimescaleDB too, so
that spans of any age count in them), the turn rollup kept in step with the traces
(``observability.store.turns``). A batch is either written whole or not at all, so the
exporter can retry it as is. On PostgreSQL a write comes in two parts, ``begin`` (send the
batch) and the ``Finish`` it returns (the server's merges and the commit), so the exporter can
send the next batch while the server merges this one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import Engine, Table, func, insert, literal_column

from observability.store.dialect import StoreDialect, largest, smallest, upsert
from observability.store.pgcopy import BinaryCopier
from observability.store.rollups import RollupBatch
from observability.store.rows import SpanRow
from observability.store.schema import (
    SPAN_COLUMNS,
    redaction_rollup_day,
    rollup_day,
    rollup_hour,
    rollup_minute,
    rollup_spender_day,
    rollup_spenders,
    spans,
    traces,
)
from observability.store.turns import postgres_turn_sql, sqlite_turns_kept

_MERGED = (
    traces,
    rollup_minute,
    rollup_hour,
    rollup_spenders,
    rollup_day,
    rollup_spender_day,
    redaction_rollup_day,
)


class SpanWriter(Protocol):
    """Writes one batch of ``spans`` rows in one transaction, or raises."""

    def write(self, rows: Iterable[SpanRow]) -> None:
        """Write all of ``rows`` or none of them; ``rows`` may be an iterator, which is then
        consumed at most once, as the writing goes."""
        ...


Finish = Callable[[], None]
"""The rest of a batch's write (the server's merges and the commit); raises if it fails."""


@runtime_checkable
class PipelinedSpanWriter(SpanWriter, Protocol):
    """A writer that can send one batch while the server still merges the one before."""

    def begin(self, rows: Iterable[SpanRow]) -> Finish:
        """Send ``rows`` (consumed once) in a new transaction and return the rest of the
        write, to be run (once, on any thread) before the batch counts as written."""
        ...


@runtime_checkable
class MaintainedSpanWriter(SpanWriter, Protocol):
    """A writer with upkeep to do while no batch waits, such as building indexes."""

    def maintain(self) -> None:
        """Do one short step of upkeep if one is due (the exporter calls this when idle)."""
        ...


class SqlSpanWriter:
    """The trace store's writer for SQLite, PostgreSQL and TimescaleDB."""

    def __init__(self, engine: Engine, dialect: StoreDialect) -> None:
        self._engine = engine
        self._dialect = dialect
        self._copier = BinaryCopier()
        name = engine.dialect.name
        updates = {traces.name: _trace_update(name)}
        updates |= {t.name: _sum_update(t) for t in _MERGED if t is not traces}
        updates[rollup_spender_day.name]["last_seen"] = lambda old, new: largest(name, old, new)
        tables = {t.name: t for t in _MERGED}
        self._upserts = {
            n: upsert(tables[n], name, _keys(tables[n]), update) for n, update in updates.items()
        }
        self._stage_sql = {
            n: f"CREATE TEMP TABLE IF NOT EXISTS stage_{n} (LIKE {n} INCLUDING DEFAULTS) "
            "ON COMMIT DELETE ROWS"
            for n in tables
        }
        self._merge_sql = {
            n: str(
                upsert(tables[n], name, _keys(tables[n]), update, from_table=f"stage_{n}")
                .compile(dialect=engine.dialect)
            )
            for n, update in updates.items()
        } if dialect.is_postgres else {}  # fmt: skip
        if dialect.is_postgres:
            self._merge_sql[traces.name] = postgres_turn_sql(
                dialect, engine.dialect, self._merge_sql[traces.name]
            )

    def write(self, rows: Iterable[SpanRow]) -> None:
        """Write ``rows`` and what they add to traces and rollups, in one transaction."""
        self.begin(rows)()

    def begin(self, rows: Iterable[SpanRow]) -> Finish:
        """Send ``rows``; on PostgreSQL the returned ``Finish`` merges the traces and rollups
        and commits (the server's share of the batch), on SQLite everything is done already."""
        if not self._dialect.is_postgres:
            self._write_sqlite(list(rows))
            return _done
        conn = self._engine.connect()
        try:
            transaction = conn.begin()
            driver: Any = conn.connection.driver_connection
            merge = self._send_postgres(driver, rows)
        except BaseException:
            conn.close()
            raise

        def finish() -> None:
            try:
                if merge:
                    with driver.cursor() as cursor:
                        cursor.execute(merge)
                transaction.commit()
            finally:
                conn.close()

        return finish

    def _write_sqlite(self, rows: list[SpanRow]) -> None:
        if not rows:
            return
        batch = RollupBatch()
        for row in rows:
            batch.add(row)
        with self._engine.begin() as conn:
            conn.execute(insert(spans), [row._asdict() for row in rows])
            for table, merged in batch.upserts(rollups=True):
                if not merged:
                    continue
                names = table.c.keys()
                params = [dict(zip(names, values, strict=True)) for values in merged]
                if table is traces:
                    with sqlite_turns_kept(conn, [values[0] for values in merged]):
                        conn.execute(self._upserts[table.name], params)
                else:
                    conn.execute(self._upserts[table.name], params)

    def _send_postgres(self, driver: Any, rows: Iterable[SpanRow]) -> str:
        """Binary COPY of the spans, summing their traces and rollups as they go (this and
        the rows' conversion overlap the server taking them in); then COPY the sums into
        temporary tables (far faster than a many-row INSERT for the wide rollup rows).
        Returns the statements that upsert from those tables ("" when there is nothing)."""
        batch = RollupBatch()
        with driver.cursor() as cursor:
            with self._copier.copy(cursor, spans.name, SPAN_COLUMNS) as copy:
                for row in rows:
                    copy.write_row(row)
                    batch.add(row)
            merges = [(t, m) for t, m in batch.upserts(rollups=True) if m]
            if not merges:
                return ""
            cursor.execute(";".join(self._stage_sql[t.name] for t, _ in merges))
            for table, merged in merges:
                columns = table.c.keys()
                with self._copier.copy(
                    cursor, table.name, columns, into=f"stage_{table.name}"
                ) as copy:
                    for values in merged:
                        copy.write_row(values)
        return ";".join(self._merge_sql[t.name] for t, _ in merges)


def _done() -> None:
    """Nothing is left of the write."""


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

    def count(old: Any, new: Any) -> Any:
        zero: Any = literal_column("0")  # not a parameter: the merge is compiled to plain SQL
        return func.coalesce(old, zero) + func.coalesce(new, zero)

    def latest(old: Any, new: Any) -> Any:
        return func.coalesce(new, old)

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
        "environment": keep,
        "experiment": keep,
        "variant": keep,
        "scenario": keep,
        "turns": count,
        "quality": latest,
        "answered": latest,
        "escalated": count,
        "vote": latest,
    }
