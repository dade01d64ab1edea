"""Bring a store made by an earlier version up to the current schema, on start, idempotently.

New columns of ``spans`` and ``traces`` are added (NULL in the rows stored before); rollups
whose keys changed are derived data, so they are dropped, made again and filled from the spans;
a rollup added since (created empty) is filled: the daily call and redaction rollups from the
spans, the daily turn rollup from ``traces``, which holds each trace's turn figures; indexes
added since are built.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Select,
    exists,
    insert,
    inspect,
    literal_column,
    select,
    text,
)

from observability.store.dialect import StoreDialect, TimeUnit, truncate_time
from observability.store.rollups import (
    call_metrics,
    dimension_columns,
    redaction_query,
    rollup_filter,
    spender_day_query,
)
from observability.store.schema import (
    CALL_DIMENSIONS,
    SPENDER_DIMENSIONS,
    UtcDateTime,
    redaction_rollup_day,
    rollup_day,
    rollup_hour,
    rollup_minute,
    rollup_spender_day,
    rollup_spenders,
    spans,
    traces,
    turn_rollup_day,
)
from observability.store.turns import fill_turns

logger = logging.getLogger("observability.store")

ADDED_COLUMNS = (
    (spans, "environment"),
    *((traces, name) for name in ("environment", "experiment", "variant", "scenario")),
    *((traces, name) for name in ("turns", "quality", "answered", "escalated", "vote")),
)
"""Columns added to tables that hold data of their own; stored rows keep NULL."""
ROLLUP_SOURCES: tuple[tuple[Any, TimeUnit, tuple[str, ...], bool], ...] = (
    (rollup_minute, "minute", CALL_DIMENSIONS, True),
    (rollup_hour, "hour", CALL_DIMENSIONS, True),
    (rollup_spenders, "hour", SPENDER_DIMENSIONS, False),
    (rollup_day, "day", CALL_DIMENSIONS, True),
)
"""Each rollup table, its grain, key columns and whether it has latency histograms."""


def upgrade_store(engine: Engine, dialect: StoreDialect) -> None:
    """Add missing columns and indexes, remake rollups whose columns are missing and fill
    new ones. On PostgreSQL under a lock, so that stores starting together take turns."""
    with engine.begin() as conn:
        if dialect.is_postgres:
            conn.execute(
                text("SELECT pg_advisory_xact_lock(hashtext('support-observatory-store'))")
            )
        found = inspect(conn)
        for table, name in ADDED_COLUMNS:
            if name not in {c["name"] for c in found.get_columns(table.name)}:
                column_type = table.c[name].type.compile(dialect=conn.dialect)
                conn.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {name} {column_type}"))
        for table, grain, keys, histograms in ROLLUP_SOURCES:
            present = {c["name"] for c in found.get_columns(table.name)}
            if set(table.c.keys()) - present:
                logger.warning("remaking rollup %s from the stored spans", table.name)
                table.drop(conn)
                table.create(conn)
                fill_rollup(conn, dialect, table, grain, keys, histograms=histograms)
        if _empty(conn, rollup_day) and not _empty(conn, rollup_hour):
            logger.warning("filling rollup %s from the stored spans", rollup_day.name)
            fill_rollup(conn, dialect, rollup_day, "day", CALL_DIMENSIONS, histograms=True)
        if _empty(conn, rollup_spender_day) and not _empty(conn, rollup_spenders):
            logger.warning(
                "filling rollup %s from %s", rollup_spender_day.name, rollup_spenders.name
            )
            query = spender_day_query(dialect)
            conn.execute(
                insert(rollup_spender_day).from_select(list(query.selected_columns.keys()), query)
            )
        if _empty(conn, turn_rollup_day) and not _empty(conn, traces):
            logger.warning("filling rollup %s from the stored traces", turn_rollup_day.name)
            fill_turns(conn, dialect)
        if _empty(conn, redaction_rollup_day) and not _empty(conn, traces):
            logger.warning("filling rollup %s from the stored spans", redaction_rollup_day.name)
            query = redaction_query(dialect)
            conn.execute(
                insert(redaction_rollup_day).from_select(list(query.selected_columns.keys()), query)
            )
        for index in spans.indexes:
            index.create(conn, checkfirst=True)


def _empty(conn: Connection, table: Any) -> bool:
    return not conn.execute(select(exists().select_from(table))).scalar()


def fill_rollup(
    conn: Connection,
    dialect: StoreDialect,
    table: Any,
    grain: TimeUnit,
    keys: tuple[str, ...],
    *,
    histograms: bool,
) -> None:
    """Sum every stored span into the (empty) rollup ``table``."""
    query = rollup_query(dialect, grain, keys, histograms=histograms)
    conn.execute(insert(table).from_select([c.name for c in query.selected_columns], query))


def rollup_query(
    dialect: StoreDialect, grain: TimeUnit, keys: tuple[str, ...], *, histograms: bool
) -> Select[Any]:
    """A rollup's rows computed from ``spans``, in SQL: the same sums as the writer's."""
    dimensions = dimension_columns()
    bucket = truncate_time(dialect, spans.c.start_time, grain, UtcDateTime())
    columns = [bucket.label("bucket"), *(dimensions[key].label(key) for key in keys)]
    return (
        select(*columns, *call_metrics(histograms=histograms))
        .where(rollup_filter())
        .group_by(*(literal_column(c.name) for c in columns))
    )
