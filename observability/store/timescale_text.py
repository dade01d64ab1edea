"""Text search on TimescaleDB: a trigram-indexed copy of each closed day's span text.

Compressed chunks keep no index over their rows, and reading one to match text means
decompressing every span's attributes (about 175 ms a day at 33,000 spans). So the idle store
writer copies each closed UTC day's span names and attributes into ``span_search``, a plain
table, gives the day a partial trigram index there (``ix_span_search_YYYYMMDD``, built
``CONCURRENTLY``), and notes it in ``span_search_days`` (``copy_next_day``). Text search
(``search_arms``) reads each copied day through its index, newest first (a common string fills
its quota from the newest day's index alone), and scans only the rest of the window (today, and
any day not copied yet).

A span that arrives for a day already over is marked in ``span_search_late`` by a trigger on
``spans`` (one row per day and writing transaction; spans of the current day cost the trigger's
condition only). A marked day is scanned instead of read from its copy until the writer copies
it again, so a copy never hides a span: a day is copied ``COPY_AFTER`` its end, in one
snapshot, and a copy clears only the marks of the transactions that snapshot saw.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Date,
    Engine,
    Index,
    MetaData,
    Select,
    String,
    Table,
    Text,
    delete,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError

from observability.store.database import TEXT_INDEX_EXPRESSION
from observability.store.errors import TraceStoreError
from observability.store.schema import UtcDateTime, spans

logger = logging.getLogger("observability.store")

search_metadata = MetaData()
span_search = Table(
    "span_search",
    search_metadata,
    Column("day", Date, nullable=False),
    Column("trace_id", String(32), nullable=False),
    Column("start_time", UtcDateTime, nullable=False),
    Column("name", Text, nullable=False),
    Column("attributes", Text),
)
Index("ix_span_search_day", span_search.c.day)
span_search_days = Table(
    "span_search_days",
    search_metadata,
    Column("day", Date, primary_key=True),
    Column("spans", BigInteger, nullable=False),
)
span_search_late = Table(
    "span_search_late",
    search_metadata,
    Column("day", Date, primary_key=True),
    Column("writer", BigInteger, primary_key=True),
)
SEARCH_TABLES = (span_search, span_search_days, span_search_late)
SEARCH_INDEX_PREFIX = "ix_span_search_"
"""A day's index on ``span_search`` is named this and the day as ``YYYYMMDD``."""


COPY_AFTER = timedelta(hours=1)
"""A day is copied this long after it ends: a span of the day written (unmarked) before its end
is then committed, unless its transaction stayed open all that while."""


def create_search_tables(engine: Engine) -> None:
    """Create ``pg_trgm``, the copy's tables, and the trigger that marks days whose spans
    arrive once they are over, unless they exist.

    Raises ``TraceStoreError`` when the server cannot have ``pg_trgm``."""
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
            search_metadata.create_all(conn)
            trigger = conn.execute(
                text(
                    "SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass('spans') "
                    "AND tgname = :name"
                ),
                {"name": _TRIGGER},
            ).first()
            if trigger is None:
                conn.execute(text(_MARK_FUNCTION_SQL))
                conn.execute(text(_TRIGGER_SQL))
    except DBAPIError as exc:
        raise TraceStoreError(
            f"no text search copies, text search will scan: {str(exc.orig).strip()}"
        ) from exc


_TRIGGER = "span_search_late"
_MARK_FUNCTION_SQL = (
    "CREATE OR REPLACE FUNCTION span_search_mark_late() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN INSERT INTO span_search_late (day, writer) "
    "VALUES ((NEW.start_time AT TIME ZONE 'UTC')::date, txid_current()) "
    "ON CONFLICT DO NOTHING; RETURN NULL; END $$"
)
_TRIGGER_SQL = (
    f"CREATE TRIGGER {_TRIGGER} AFTER INSERT ON spans FOR EACH ROW "
    "WHEN (NEW.start_time < date_trunc('day', clock_timestamp(), 'UTC')) "
    "EXECUTE FUNCTION span_search_mark_late()"
)


def copy_next_day(engine: Engine, *, now: datetime | None = None) -> date | None:
    """Copy the newest closed day that holds spans and has no copy, or whose copy a late span
    made stale (``COPY_AFTER`` the day's end); returns that day, or ``None`` when every such
    day's copy is current. Copies of days whose spans are gone (retention dropped them) go
    first. Needs ``create_search_tables`` first."""
    today = ((now or datetime.now(UTC)).astimezone(UTC) - COPY_AFTER).date()
    repeatable = engine.connect().execution_options(isolation_level="REPEATABLE READ")
    with repeatable as conn, conn.begin():
        _drop_expired(conn)
        day = _next_day(conn, today)
        if day is None:
            return None
        start, end = _bounds(day)
        s = spans.c
        rows = select(
            literal_column(f"DATE '{day.isoformat()}'"),
            s.trace_id,
            s.start_time,
            s.name,
            s.attributes,
        ).where(s.start_time >= start, s.start_time < end)
        conn.execute(delete(span_search).where(span_search.c.day == day))
        copied = conn.execute(
            span_search.insert().from_select(
                ["day", "trace_id", "start_time", "name", "attributes"], rows
            )
        ).rowcount
        upsert = pg_insert(span_search_days).values(day=day, spans=copied)
        conn.execute(
            upsert.on_conflict_do_update(
                index_elements=["day"], set_={"spans": upsert.excluded.spans}
            )
        )
        conn.execute(delete(span_search_late).where(span_search_late.c.day == day))
    _index_day(engine, day)
    logger.info("trace store: text of %s copied for search (%s spans)", day.isoformat(), copied)
    return day


def _index_day(engine: Engine, day: date) -> None:
    """Build ``day``'s partial trigram index on ``span_search`` unless it is there and valid
    (a build that failed half-way leaves an invalid one, dropped and built again)."""
    name = f"{SEARCH_INDEX_PREFIX}{day:%Y%m%d}"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        valid = conn.execute(
            text("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(:name)"),
            {"name": name},
        ).scalar()
        if valid:
            return
        schema = conn.execute(
            text("SELECT extnamespace::regnamespace FROM pg_extension WHERE extname = :n"),
            {"n": "pg_trgm"},
        ).scalar_one()
        conn.execute(text(f"DROP INDEX CONCURRENTLY IF EXISTS {name}"))
        conn.execute(
            text(
                f"CREATE INDEX CONCURRENTLY {name} ON span_search USING gin "
                f"({TEXT_INDEX_EXPRESSION} {schema}.gin_trgm_ops) "
                f"WHERE day = DATE '{day.isoformat()}'"
            )
        )


def searchable_days(conn: Connection) -> list[date]:
    """The days, oldest first, read from their copy (copied, and no late span since)."""
    return list(conn.execute(_searchable_days_query()).scalars())


def _searchable_days_query() -> Select[Any]:
    late = select(span_search_late.c.day)
    return (
        select(span_search_days.c.day)
        .where(span_search_days.c.day.not_in(late))
        .order_by(span_search_days.c.day)
    )


def days_to_search(conn: Connection) -> list[date]:
    """``searchable_days``, with the rest of ``conn``'s transaction set to run without
    parallel workers, in one round trip: the search's arms are a few index lookups and one
    day's scan, done in less time than starting workers took (30-day text search with
    workers 87 ms, without 53, at load average 5.6)."""
    serial = func.set_config("max_parallel_workers_per_gather", "0", True)
    days = func.array(_searchable_days_query().scalar_subquery())
    return list(conn.execute(select(serial, days)).one()[1])


def has_search_tables(conn: Connection) -> bool:
    """Whether this store has ``span_search_days`` (TimescaleDB stores do)."""
    return bool(conn.execute(text("SELECT to_regclass('span_search_days') IS NOT NULL")).scalar())


def search_arms(
    days: Sequence[date], since: datetime | None, indexed: Any, exact: Any
) -> list[Select[Any]]:
    """Selects of ``trace_id`` whose union is every span since ``since`` (all, for ``None``)
    meeting ``exact``, a condition on a table with ``name`` and ``attributes``: today and the
    other days not in ``days`` scan ``spans`` by start time; each of ``days``, newest first,
    reads ``span_search`` through its own index (``indexed`` is the indexed expression's LIKE;
    the day is written as a literal so the planner matches it to the index's)."""
    floor = since.astimezone(UTC) if since is not None else None
    first = floor.date() if floor is not None else date.min
    copy = span_search.c
    since_copy = [copy.start_time >= floor] if floor is not None else []
    scans: list[Select[Any]] = []
    gap_start: datetime | None = None
    for day in days:
        day_start = datetime.combine(day, time(), UTC)
        if (gap_start is None or gap_start < day_start) and (floor is None or floor < day_start):
            scans.append(_scan(exact, floor, gap_start, day_start))
        gap_start = day_start + timedelta(days=1)
    scans.append(_scan(exact, floor, gap_start, None))
    copied = [
        select(copy.trace_id).where(
            copy.day == literal_column(f"DATE '{day.isoformat()}'"),
            indexed,
            exact(span_search),
            *since_copy,
        )
        for day in sorted(days, reverse=True)
        if day >= first
    ]
    return [*reversed(scans), *copied]


def _scan(
    exact: Any, floor: datetime | None, start: datetime | None, end: datetime | None
) -> Select[Any]:
    s = spans.c
    where = [exact(spans)]
    lower = max((b for b in (floor, start) if b is not None), default=None)
    if lower is not None:
        where.append(s.start_time >= lower)
    if end is not None:
        where.append(s.start_time < end)
    return select(s.trace_id).where(*where)


def _next_day(conn: Connection, today: date) -> date | None:
    """The newest day before ``today`` that holds spans and has no current copy."""
    current = set(searchable_days(conn))
    bound = datetime.combine(today, time(), UTC)
    while True:  # from the newest span before ``bound``, a day at a time
        newest = conn.execute(
            select(func.max(spans.c.start_time)).where(spans.c.start_time < bound)
        ).scalar()
        if newest is None:
            return None
        day = newest.astimezone(UTC).date()
        if day not in current:
            return day
        bound = datetime.combine(day, time(), UTC)


def _drop_expired(conn: Connection) -> None:
    """Drop the copies, and their indexes, of days older than the oldest stored span
    (retention dropped them)."""
    oldest = conn.execute(select(func.min(spans.c.start_time))).scalar()
    first = oldest.astimezone(UTC).date() if oldest is not None else date.max
    for table in SEARCH_TABLES:
        conn.execute(delete(table).where(table.c.day < first))
    names = conn.execute(
        text(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = to_regclass('span_search') AND c.relname LIKE :prefix "
            "AND c.relname ~ :pattern AND c.relname < :first"
        ),
        {
            "prefix": f"{SEARCH_INDEX_PREFIX}%",
            "pattern": f"^{SEARCH_INDEX_PREFIX}[0-9]{{8}}$",
            "first": f"{SEARCH_INDEX_PREFIX}{first:%Y%m%d}",
        },
    ).scalars()
    for name in names.all():
        conn.execute(text(f"DROP INDEX {name}"))


def _bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), UTC)
    return start, start + timedelta(days=1)
