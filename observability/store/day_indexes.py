"""Text search indexes by day, on plain PostgreSQL: one partial trigram index per closed UTC day.

A trigram index costs about 100 µs of server time per span. Kept up as spans arrive, it makes
writing three to four times slower. These indexes are built once a day is over, one day
at a time (``index_next_day``), when the writer is idle. A partial index still takes in every
span whose start falls in its day, so a span that arrives late is indexed too. Text search
(``day_index_arms``) then reads each indexed day through its index and scans only the rest of
the window (usually today).

TimescaleDB is left out: it cannot build an index concurrently on a hypertable, and a
compressed chunk's rows are in no index; it copies each closed day's text instead
(``timescale_text``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Select, func, literal_column, select, text
from sqlalchemy.exc import DBAPIError

from observability.store.database import TEXT_INDEX_EXPRESSION
from observability.store.errors import TraceStoreError
from observability.store.schema import spans

logger = logging.getLogger("observability.store")

DAY_INDEX_PREFIX = "ix_spans_text_"
"""A day's index is named this and the day as ``YYYYMMDD``."""
_BUILD_TIMEOUT = "15min"
"""Longest a day's index may take to build."""
_WAIT_TIMEOUT = "5s"
"""Longest the build waits for a lock, or for a transaction older than it to end: the writer
waits meanwhile, so a long transaction elsewhere makes the build fail (and retry later)."""


def day_index_name(day: date) -> str:
    return f"{DAY_INDEX_PREFIX}{day:%Y%m%d}"


def indexed_days(conn: Connection) -> list[date]:
    """The days, oldest first, whose index is built and usable."""
    names = conn.execute(
        text(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = to_regclass('spans') AND i.indisvalid AND c.relname LIKE :prefix"
        ),
        {"prefix": f"{DAY_INDEX_PREFIX}%"},
    ).scalars()
    days = []
    for name in names:
        try:
            days.append(datetime.strptime(name.removeprefix(DAY_INDEX_PREFIX), "%Y%m%d").date())
        except ValueError:
            continue
    return sorted(days)


def index_next_day(engine: Engine, *, now: datetime | None = None) -> date | None:
    """Build the index of the newest closed day that holds spans and has none; returns that
    day, or ``None`` when every such day has its index.

    The index is built ``CONCURRENTLY``, so other writers go on meanwhile; a build that
    failed half-way leaves an invalid index, which the next call drops and builds again.
    Raises ``TraceStoreError`` when the server cannot have ``pg_trgm``.
    """
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    with engine.connect() as conn:
        _need_trigrams(conn)
        done = set(indexed_days(conn))
        bound = datetime.combine(today, time(), UTC)
        while True:  # from the newest span before ``bound``, a day at a time, through the index
            newest = conn.execute(
                select(func.max(spans.c.start_time)).where(spans.c.start_time < bound)
            ).scalar()
            if newest is None:
                return None
            day = newest.astimezone(UTC).date()
            if day not in done:
                break
            bound = datetime.combine(day, time(), UTC)
        schema = conn.execute(
            text("SELECT extnamespace::regnamespace FROM pg_extension WHERE extname = 'pg_trgm'")
        ).scalar_one()
        conn.commit()
    start, end = _bounds(day)
    name = day_index_name(day)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"SET statement_timeout = '{_BUILD_TIMEOUT}'"))
        conn.execute(text(f"SET lock_timeout = '{_WAIT_TIMEOUT}'"))
        try:
            conn.execute(text(f"DROP INDEX CONCURRENTLY IF EXISTS {name}"))
            conn.execute(
                text(
                    f"CREATE INDEX CONCURRENTLY {name} ON spans "
                    f"USING gin ({TEXT_INDEX_EXPRESSION} {schema}.gin_trgm_ops) "
                    f"WHERE start_time >= {start} AND start_time < {end}"
                )
            )
        finally:
            conn.execute(text("RESET statement_timeout"))
            conn.execute(text("RESET lock_timeout"))
    logger.info("trace store: text index of %s built", day.isoformat())
    return day


def day_index_arms(
    days: Sequence[date], since: datetime | None, condition: Any
) -> list[Select[Any]]:
    """Selects of ``trace_id`` whose union is every span since ``since`` (all, for ``None``)
    meeting ``condition``: one per indexed day, which PostgreSQL reads through that day's index
    (the day's bounds are written as literals so the planner can match them to the index's),
    and one per stretch of the window between indexed days, which it scans by start time."""
    s = spans.c
    floor = since.astimezone(UTC) if since is not None else None
    arms: list[Select[Any]] = []
    gap_start: datetime | None = None
    for day in days:
        day_start = datetime.combine(day, time(), UTC)
        day_end = day_start + timedelta(days=1)
        if floor is not None and day_end <= floor:
            gap_start = day_end
            continue
        if (gap_start is None or gap_start < day_start) and (floor is None or floor < day_start):
            arms.append(_arm(condition, floor, gap_start, day_start))
        start, end = _bounds(day)
        in_day = [s.start_time >= literal_column(start), s.start_time < literal_column(end)]
        arms.append(_arm(condition, floor, None, None, *in_day))
        gap_start = day_end
    arms.append(_arm(condition, floor, gap_start, None))
    return arms


def _arm(
    condition: Any, floor: datetime | None, start: datetime | None, end: datetime | None,
    *more: Any,
) -> Select[Any]:  # fmt: skip
    s = spans.c
    where = [condition, *more]
    lower = max((b for b in (floor, start) if b is not None), default=None)
    if lower is not None:
        where.append(s.start_time >= lower)
    if end is not None:
        where.append(s.start_time < end)
    return select(s.trace_id).where(*where)


def _bounds(day: date) -> tuple[str, str]:
    """A day's start and end as SQL literals (the index predicate and the query's must match)."""
    start = datetime.combine(day, time(), UTC)
    return (
        f"TIMESTAMPTZ '{start.isoformat()}'",
        f"TIMESTAMPTZ '{(start + timedelta(days=1)).isoformat()}'",
    )


def _need_trigrams(conn: Connection) -> None:
    try:
        with conn.begin_nested():
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except DBAPIError as exc:
        raise TraceStoreError(
            f"no text indexes, text search will scan: {str(exc.orig).strip()}"
        ) from exc
