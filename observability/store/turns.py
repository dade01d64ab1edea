"""The daily turn rollup: what the chat turns kept in ``traces`` add up to, per day and key.

Each trace's row in ``traces`` holds what its turn came to (see ``RollupBatch``): turns,
quality score, answered or not, hand-offs and the latest vote. Those figures change after the
trace is first written (a vote or a hand-off comes later; a span arriving late moves the
trace's start or gives it its model), so no batch can simply add to a sum. Instead the writer,
in the batch's transaction, takes out of ``turn_rollup_day`` what the traces the batch touches
added so far, merges the traces, and adds what they add now. On PostgreSQL a transaction lock
makes concurrent writers take turns at this: two writers that both read a trace's old figures
would take them out twice.

``turn_figures`` is the one definition of the sums, used for the rollup, for filling it from
``traces`` and for the ragged ends of a range that the analytics read from ``traces``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Dialect,
    Insert,
    Select,
    and_,
    case,
    cast,
    column,
    func,
    insert,
    literal_column,
    select,
    table,
    text,
)

from observability.store.dialect import StoreDialect, TimeUnit, truncate_time, upsert
from observability.store.schema import (
    CALL_DIMENSIONS,
    TURN_METRICS,
    UtcDateTime,
    traces,
    turn_rollup_day,
)

STAGE = "stage_traces"
"""The batch's traces: PostgreSQL's staging copy of the batch's trace rows; on SQLite a
temporary table of their ids."""
TURN_LOCK = "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.turn_rollup_day'))"
SQLITE_STAGE = f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} (trace_id TEXT PRIMARY KEY)"


def turn_sums(sign: int = 1) -> list[Any]:
    """The turn figures of a group of ``traces`` rows, labelled as ``TURN_METRICS``; each
    negated when ``sign`` is -1. Rows without a turn count nowhere (see ``turn_figures``)."""
    t = traces.c
    escalated = func.coalesce(t.escalated, 0) > 0
    sums = {
        "turns": cast(func.sum(t.turns), BigInteger()),
        "scored": func.count(t.quality),
        "quality_sum": func.coalesce(func.sum(t.quality), literal_column("0.0")),
        "resolved": _count(and_(t.answered == 1, ~escalated)),
        "escalated": _count(escalated),
        "up": _count(t.vote > 0),
        "down": _count(t.vote < 0),
    }
    assert tuple(sums) == TURN_METRICS
    return [(-value if sign < 0 else value).label(name) for name, value in sums.items()]


def turn_keys(dialect: StoreDialect, grain: TimeUnit) -> list[Any]:
    """A trace's rollup key: the ``grain`` of its start and its provider, model and ids."""
    t = traces.c
    bucket = truncate_time(dialect, t.start_time, grain, UtcDateTime()).label("bucket")
    return [bucket, *(func.coalesce(t[key], literal_column("''")).label(key)
                      for key in CALL_DIMENSIONS)]  # fmt: skip


def turn_figures(dialect: StoreDialect, grain: TimeUnit, *where: Any, sign: int = 1) -> Select[Any]:
    """The rollup's rows computed from the ``traces`` rows with a turn that match ``where``."""
    keys = turn_keys(dialect, grain)
    return (
        select(*keys, *turn_sums(sign))
        .where(traces.c.turns > 0, *where)
        .group_by(*(literal_column(k.name) for k in keys))
    )


def fill_turns(conn: Connection, dialect: StoreDialect) -> None:
    """Sum every stored trace's turn into the (empty) rollup."""
    query = turn_figures(dialect, "day")
    conn.execute(insert(turn_rollup_day).from_select(list(query.selected_columns.keys()), query))


def turn_changes(dialect: StoreDialect, sign: int) -> Insert:
    """Add (``sign`` 1) or take out (-1) the figures of the batch's traces as they stand."""
    staged = table(STAGE, column("trace_id"))
    query = turn_figures(
        dialect, "day", traces.c.trace_id.in_(select(staged.c.trace_id)), sign=sign
    )
    keys = [c.name for c in turn_rollup_day.primary_key.columns]
    return upsert(
        turn_rollup_day,
        "postgresql" if dialect.is_postgres else "sqlite",
        keys,
        {m: lambda old, new: old + new for m in TURN_METRICS},
        from_select=query,
    )


def postgres_turn_sql(dialect: StoreDialect, sql_dialect: Dialect, traces_merge: str) -> str:
    """PostgreSQL: ``traces_merge`` (the upsert from ``stage_traces``) with the rollup kept in
    step around it, under the lock; plain SQL, no parameters."""
    out, back = (
        str(turn_changes(dialect, sign).compile(
            dialect=sql_dialect, compile_kwargs={"literal_binds": True}
        ))
        for sign in (-1, 1)
    )  # fmt: skip
    return ";".join((TURN_LOCK, out, traces_merge, back))


@contextmanager
def sqlite_turns_kept(conn: Connection, trace_ids: list[str]) -> Iterator[None]:
    """SQLite: around merging the traces ``trace_ids`` in ``conn``'s transaction, keep the
    rollup in step (the transaction already holds SQLite's one write lock)."""
    conn.execute(text(SQLITE_STAGE))
    conn.execute(text(f"INSERT INTO {STAGE} (trace_id) VALUES (:id)"),
                 [{"id": i} for i in trace_ids])  # fmt: skip
    conn.execute(turn_changes(StoreDialect.SQLITE, -1))
    yield
    conn.execute(turn_changes(StoreDialect.SQLITE, 1))
    conn.execute(text(f"DELETE FROM {STAGE}"))


def _count(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)
