"""Text indexes by day on plain PostgreSQL: each closed day gets one, text search finds through
them what a scan finds (late spans and today's included), and the idle writer builds them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from sqlalchemy import Engine, text, union_all

from bench._spans import generate_spans
from observability.queries import TraceFilters, TraceQueries
from observability.store import LazyStoreWriter, create_store_engine, prepare_store
from observability.store.day_indexes import (
    day_index_arms,
    day_index_name,
    index_next_day,
    indexed_days,
)
from observability.store.dialect import StoreDialect, detect_dialect
from observability.store.rows import SpanRow, span_to_row
from observability.store.writer import SqlSpanWriter

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 10, 3, 12, tzinfo=UTC)
"""Days 1 and 2 October are over; 3 October is today. 29 and 30 September hold no spans."""
MARKER = "Zebra-Quartz"


def _rows(count: int, start: datetime, days: float, seed: int) -> list[SpanRow]:
    return [span_to_row(s) for s in generate_spans(count, seed=seed, start=start, days=days)]


def _marked(rows: list[SpanRow], at: int) -> list[SpanRow]:
    """``rows`` with the span at ``at`` renamed to hold the marker (in another case)."""
    marked = rows[at]._replace(name=f"tool {MARKER.lower()} {uuid.uuid4().hex[:6]}")
    return [*rows[:at], marked, *rows[at + 1 :]]


def _engine(postgres_url: str) -> Engine:
    """An engine on a new, empty schema of the test database (skips on TimescaleDB)."""
    probe = create_store_engine(postgres_url)
    dialect = detect_dialect(probe)
    probe.dispose()
    if dialect is StoreDialect.TIMESCALEDB:
        pytest.skip("day indexes are for plain PostgreSQL; TEST_POSTGRES_URL runs TimescaleDB")
    schema = f"d_{uuid.uuid4().hex[:10]}"
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return create_store_engine(f"{postgres_url}?options=-csearch_path%3D{schema}")


def _store(postgres_url: str) -> tuple[Engine, SqlSpanWriter]:
    engine = _engine(postgres_url)
    dialect = prepare_store(engine, compress_after_days=7, drop_after_days=90)
    return engine, SqlSpanWriter(engine, dialect)


BATCHES = [
    _rows(200, datetime(2026, 9, 28, tzinfo=UTC), 0.9, seed=1),
    _marked(_rows(400, datetime(2026, 10, 1, tzinfo=UTC), 1.9, seed=2), at=57),
    _marked(_rows(200, datetime(2026, 10, 3, tzinfo=UTC), 0.4, seed=3), at=11),
]
LATE = _marked(_rows(60, datetime(2026, 10, 1, 15, tzinfo=UTC), 0.01, seed=4), at=5)
"""Spans that start on 1 October but reach the store after its index was built."""


@pytest.fixture(scope="module")
def stores(postgres_url: str) -> Iterator[tuple[Engine, Engine]]:
    """The same spans twice: a store whose closed days were indexed (before the late spans
    came), and one without indexes."""
    indexed, indexed_writer = _store(postgres_url)
    plain, plain_writer = _store(postgres_url)
    for batch in BATCHES:
        indexed_writer.write(batch)
        plain_writer.write(batch)
    while index_next_day(indexed, now=NOW):
        pass
    indexed_writer.write(LATE)
    plain_writer.write(LATE)
    yield indexed, plain
    indexed.dispose()
    plain.dispose()


def test_each_closed_day_with_spans_gets_an_index_and_today_none(
    postgres_url: str,
) -> None:
    engine, writer = _store(postgres_url)
    for batch in BATCHES:
        writer.write(batch)
    built = []
    while (day := index_next_day(engine, now=NOW)) is not None:
        built.append(day)
    assert built == [date(2026, 10, 2), date(2026, 10, 1), date(2026, 9, 28)]
    with engine.connect() as conn:
        assert indexed_days(conn) == sorted(built)
    assert index_next_day(engine, now=NOW + timedelta(days=1)) == date(2026, 10, 3)
    engine.dispose()


@pytest.mark.parametrize(
    ("term", "since"),
    [
        (MARKER, None),
        (MARKER, datetime(2026, 10, 1, 14, tzinfo=UTC)),
        (MARKER, datetime(2026, 10, 2, 18, tzinfo=UTC)),
        ("RateLimited", datetime(2026, 9, 30, tzinfo=UTC)),
        ("no such words", None),
    ],
)
def test_text_search_through_day_indexes_finds_what_a_scan_finds(
    stores: tuple[Engine, Engine], term: str, since: datetime | None
) -> None:
    indexed, plain = stores
    filters = TraceFilters(start=since, end=NOW, text=term)
    found = TraceQueries(indexed).list_traces(filters, page_size=500).traces
    scanned = TraceQueries(plain).list_traces(filters, page_size=500).traces
    assert list(found["trace_id"]) == list(scanned["trace_id"])
    if term == MARKER and since is None:
        late, today = LATE[5].trace_id, BATCHES[2][11].trace_id
        assert {late, today, BATCHES[1][57].trace_id} <= set(found["trace_id"])


def test_an_indexed_day_is_read_through_its_index(stores: tuple[Engine, Engine]) -> None:
    indexed, _ = stores
    condition = text(f"((name || ' ' || attributes) COLLATE \"C\") ILIKE '%{MARKER}%'")
    with indexed.connect() as conn:
        days = indexed_days(conn)
        query = union_all(*day_index_arms(days, None, condition)).compile(indexed)
        # So few spans are cheaper to find by time: take the indexes on time away (rolled back).
        conn.execute(text("DROP INDEX ix_spans_start_time"))
        conn.execute(text("DROP INDEX ix_spans_name"))
        conn.execute(text("ALTER TABLE spans DROP CONSTRAINT spans_pkey"))
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(conn.exec_driver_sql(f"EXPLAIN {query}", query.params).scalars())
        conn.rollback()
    for day in days:
        assert day_index_name(day) in plan, plan


def test_the_idle_writer_builds_one_day_at_a_time(postgres_url: str) -> None:
    engine = _engine(postgres_url)
    writer = LazyStoreWriter(engine, compress_after_days=7, drop_after_days=90)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    writer.write(_rows(300, today - timedelta(days=3), 2.5, seed=5))

    def days() -> list[date]:
        with engine.connect() as conn:
            return indexed_days(conn)

    writer.maintain()
    assert days() == [(today - timedelta(days=1)).date()]
    writer.maintain()
    writer.maintain()
    assert len(days()) == 3
    writer.maintain()  # finds nothing left to build
    assert len(days()) == 3
    engine.dispose()


def test_the_writer_builds_no_day_index_beside_the_full_index(postgres_url: str) -> None:
    engine = _engine(postgres_url)
    writer = LazyStoreWriter(engine, compress_after_days=7, drop_after_days=90, text_index=True)
    writer.write(_rows(100, datetime(2026, 10, 1, tzinfo=UTC), 1, seed=6))
    writer.maintain()
    with engine.connect() as conn:
        assert indexed_days(conn) == []
    engine.dispose()
