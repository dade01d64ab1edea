"""The store on a real TimescaleDB: layout and policies, restarts, spans of any age in every
query (equal to plain PostgreSQL's answers), stores in their own schemas, stores made by
earlier versions.

These run only when ``TEST_POSTGRES_URL`` points at a server that preloads TimescaleDB. The
compression policy's work is done in the foreground (its job paused, then
``compress_chunk`` on the chunks it would take): on this machine's PostgreSQL 15 build the
background workers fail partway (``cannot drop portal ""``), and one running beside a
foreground ``CALL run_job(id)`` makes the latter fail on a chunk it has just compressed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

import pandas as pd
import psycopg
import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError

from bench._spans import generate_spans
from observability.queries import Bucket, Dimension, TraceFilters, TraceQueries, Window
from observability.store import create_store_engine, create_store_processor, prepare_store
from observability.store.dialect import StoreDialect
from observability.store.rows import SpanRow, span_to_row
from observability.store.schema import PLAIN_TABLES, metadata, spans
from observability.store.timescale import COMPRESS_ORDER_BY, COMPRESS_SEGMENT_BY
from observability.store.timescale_text import (
    copy_next_day,
    create_search_tables,
    searchable_days,
    span_search,
)
from observability.store.upgrade import rollup_query
from observability.store.writer import SqlSpanWriter
from tests.conftest import POSTGRES_ADMIN_URL

NOW = datetime.now(UTC).replace(microsecond=0)
AGES = (timedelta(hours=3), timedelta(days=10), timedelta(days=40))
"""Spans written late: younger than the old 2-hour refresh window, and older than every
refresh window and the 7-day compression age."""


def _timescale_state(url: str) -> tuple[bool, bool]:
    """Whether the server offers TimescaleDB, and whether it preloads it."""
    with psycopg.connect(url, connect_timeout=3) as conn:
        row = conn.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'), "
            "current_setting('timescaledb.bgw_launcher_poll_time', true) IS NOT NULL"
        ).fetchone()
    assert row is not None
    return bool(row[0]), bool(row[1])


@pytest.fixture(scope="module")
def timescale_server(postgres_server: str) -> str:
    """The admin URL, if its server runs TimescaleDB (skips otherwise)."""
    available, preloaded = _timescale_state(postgres_server)
    if not (available and preloaded):
        pytest.skip(
            f"TEST_POSTGRES_URL ({POSTGRES_ADMIN_URL}) has no TimescaleDB preloaded; point it at "
            "a server with shared_preload_libraries = 'timescaledb' to run these tests"
        )
    return postgres_server


@pytest.fixture
def dialect() -> str:
    """Every store here is on PostgreSQL."""
    return "postgresql"


@pytest.fixture
def store_url(timescale_server: str, database_url: str) -> str:
    """An empty store in its own schema (``search_path`` is that schema alone)."""
    return database_url


def _engine(url: str) -> Iterator[Engine]:
    engine = create_store_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def store(store_url: str) -> Iterator[Engine]:
    yield from _engine(store_url)


def _rows(seed: int, count: int, age: timedelta, days: float = 0.05) -> list[SpanRow]:
    """Spans over ``days`` from ``age`` ago (keep ``age`` a whole hour longer than ``days``:
    hour buckets of a window ending now take in the whole current hour)."""
    start = NOW - age
    return [span_to_row(s) for s in generate_spans(count, seed=seed, start=start, days=days)]


def _compress_as_the_policy_would(engine: Engine) -> None:
    """Do now what the store's compression policy does: pause its background job, then
    compress every chunk older than its ``compress_after`` (a chunk that a background run
    compresses meanwhile is left as it is)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        schema = _extension_schema(conn)
        job, after = conn.execute(
            text(
                "SELECT job_id, config->>'compress_after' FROM timescaledb_information.jobs "
                "WHERE proc_name = 'policy_compression' AND hypertable_schema = current_schema() "
                "AND hypertable_name = 'spans'"
            )
        ).one()
        conn.execute(text(f"SELECT {schema}.alter_job({int(job)}, scheduled => false)"))
        chunks = conn.execute(
            text(f"SELECT {schema}.show_chunks('spans', older_than => CAST(:after AS interval))"),
            {"after": after},
        ).scalars()
        for chunk in chunks.all():
            try:
                conn.execute(text(f"SELECT {schema}.compress_chunk('{chunk}')"))
            except DBAPIError as exc:
                if not isinstance(exc.orig, psycopg.errors.DuplicateObject):
                    raise


def _extension_schema(conn: object) -> str:
    query = text("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = :n")
    return str(conn.execute(query, {"n": "timescaledb"}).scalar_one())  # type: ignore[attr-defined]


def _compressed_chunks(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM timescaledb_information.chunks WHERE is_compressed "
                    "AND hypertable_schema = current_schema() AND hypertable_name = 'spans'"
                )
            ).scalar_one()
        )


def _calls(rows: list[SpanRow]) -> int:
    return sum(r.operation is not None and r.provider is not None for r in rows)


def test_layout_and_policies(store: Engine) -> None:
    dialect = prepare_store(store, compress_after_days=5, drop_after_days=60)

    assert dialect is StoreDialect.TIMESCALEDB
    with store.connect() as conn:
        hypertable = conn.execute(
            text(
                "SELECT compression_enabled FROM timescaledb_information.hypertables "
                "WHERE hypertable_schema = current_schema() AND hypertable_name = 'spans'"
            )
        ).scalar_one()
        settings = conn.execute(
            text(
                "SELECT segmentby, orderby FROM timescaledb_information."
                "hypertable_compression_settings WHERE hypertable = to_regclass('spans')"
            )
        ).one()
        jobs = dict(
            conn.execute(
                text(
                    "SELECT proc_name, config FROM timescaledb_information.jobs WHERE "
                    "hypertable_schema = current_schema() AND hypertable_name = 'spans'"
                )
            ).all()
        )
        kinds = dict(
            conn.execute(
                text("SELECT relname, relkind::text FROM pg_class WHERE relname = ANY(:names) "
                     "AND relnamespace = current_schema()::regnamespace"),
                {"names": [t.name for t in PLAIN_TABLES if t is not spans]},
            ).all()
        )  # fmt: skip
    assert hypertable is True
    assert settings.segmentby == COMPRESS_SEGMENT_BY
    assert settings.orderby.replace(" ", "").lower() == COMPRESS_ORDER_BY.replace(" ", "").lower()
    assert jobs["policy_compression"]["compress_after"] == "5 days"
    assert jobs["policy_retention"]["drop_after"] == "60 days"
    assert kinds == {t.name: "r" for t in PLAIN_TABLES if t is not spans}


def test_second_and_third_start_keep_writing(store_url: str, store: Engine) -> None:
    sent: list[int] = []
    calls = 0
    for start, age in enumerate((timedelta(hours=6), timedelta(days=10), timedelta(days=20))):
        processor = create_store_processor(store_url, export_interval_ms=10)
        batch = list(generate_spans(400, seed=20 + start, start=NOW - age, days=0.2))
        for span in batch:
            processor.on_end(span)
        assert processor.force_flush(30_000)
        processor.shutdown()
        stats = processor.stats()
        assert (stats.written, stats.dropped, stats.last_error) == (len(batch), 0, None)
        sent.append(len(batch))
        calls += _calls([span_to_row(s) for s in batch])
        if start == 1:
            _compress_as_the_policy_would(store)
            assert _compressed_chunks(store) >= 1

    with store.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(spans)).scalar_one()
        policies = conn.execute(
            text(
                "SELECT count(*) FROM timescaledb_information.jobs WHERE "
                "hypertable_schema = current_schema() AND hypertable_name = 'spans'"
            )
        ).scalar_one()
    assert stored == sum(sent)
    assert policies == 2
    summary = TraceQueries(store).summary(Window.last(timedelta(days=30), now=NOW))
    assert summary["requests"].iloc[0] == calls


@pytest.fixture
def plain_and_timescale(
    timescale_server: str, store_url: str, store: Engine
) -> Iterator[tuple[TraceQueries, TraceQueries, list[SpanRow]]]:
    """The same spans, written in the same order (recent first, old ones late, some into
    compressed chunks), into a TimescaleDB store and a plain PostgreSQL layout beside it."""
    schema = f"plain_{uuid.uuid4().hex[:10]}"
    admin = store_url.replace("postgresql+psycopg://", "postgresql://", 1).split("?")[0]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    plain = create_store_engine(f"{admin}?options=-csearch_path%3D{schema}")
    metadata.create_all(plain, tables=list(PLAIN_TABLES))
    writers = [
        SqlSpanWriter(store, prepare_store(store, compress_after_days=7, drop_after_days=90)),
        SqlSpanWriter(plain, StoreDialect.POSTGRESQL),
    ]
    written: list[SpanRow] = []
    for seed, age in enumerate(AGES):
        rows = _rows(seed, 500, age)
        for writer in writers:
            writer.write(rows)
        written += rows
    _compress_as_the_policy_would(store)
    assert _compressed_chunks(store) >= 2
    _copy_every_closed_day(store)
    late = _rows(9, 300, AGES[1] - timedelta(hours=2))
    for writer in writers:
        writer.write(late)
    yield TraceQueries(store), TraceQueries(plain), written + late
    plain.dispose()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _windows() -> dict[str, Window]:
    return {
        name: Window.last(length, now=NOW)
        for name, length in (
            ("6 h", timedelta(hours=6)),
            ("1 d", timedelta(days=1)),
            ("14 d", timedelta(days=14)),
            ("60 d", timedelta(days=60)),
        )
    }


def _answers(q: TraceQueries, trace_ids: list[str], rare: str) -> dict[str, pd.DataFrame]:
    answers: dict[str, pd.DataFrame] = {}
    for name, w in _windows().items():
        for bucket in (Bucket.MINUTE, Bucket.HOUR, Bucket.DAY):
            for group in (None, Dimension.MODEL, Dimension.USER):
                answers[f"usage {name} {bucket} {group}"] = q.usage_over_time(w, bucket, group)
        for group in (None, Dimension.PROVIDER):
            answers[f"latency {name} {group}"] = q.latency_percentiles(w, group)
            answers[f"reliability {name} {group}"] = q.reliability(w, group)
        for person in (Dimension.USER, Dimension.CONVERSATION):
            answers[f"spenders {name} {person}"] = q.top_spenders(w, person)
        answers[f"summary {name}"] = q.summary(w)
        every = TraceFilters(start=w.start, end=w.end)
        for label, filters in (
            ("all", every),
            ("errors", TraceFilters(start=w.start, end=w.end, status="error")),
            ("provider", TraceFilters(start=w.start, provider="anthropic")),
            ("model", TraceFilters(start=w.start, provider="openai", model="claude-3-5-haiku")),
            ("text", TraceFilters(start=w.start, text="lookup_order")),
            ("rare", TraceFilters(start=w.start, text=rare)),
        ):
            answers[f"traces {name} {label}"] = q.list_traces(filters, page_size=500).traces
            # Small pages fill from the newest day alone (asked first on TimescaleDB).
            first = q.list_traces(filters, page_size=5).traces
            answers[f"traces {name} {label} page 2"] = q.list_traces(
                filters, page=2, page_size=5
            ).traces
            if len(first):
                last = first.iloc[-1]
                cursor = (last["start_time"].to_pydatetime(), str(last["trace_id"]))
                after = q.page_traces(filters, limit=5, before=cursor).traces
                answers[f"traces {name} {label} after page 1"] = after
    for trace_id in trace_ids:
        answers[f"trace {trace_id}"] = q.trace_spans(trace_id).drop(columns=["events"])
    return answers


def test_every_query_counts_old_spans_and_equals_plain_postgres(
    plain_and_timescale: tuple[TraceQueries, TraceQueries, list[SpanRow]],
) -> None:
    timescale, plain, rows = plain_and_timescale
    compressed = [r.trace_id for r in rows if r.start_time < NOW - timedelta(days=8)]
    trace_ids = [compressed[0], compressed[-1], rows[0].trace_id]

    rare = next(r.conversation_id for r in rows if r.start_time < NOW - timedelta(days=39))
    assert rare is not None
    ours, theirs = _answers(timescale, trace_ids, rare), _answers(plain, trace_ids, rare)

    summary = ours["summary 60 d"]
    assert summary["requests"].iloc[0] == _calls(rows)
    assert ours["usage 60 d day None"]["requests"].sum() == _calls(rows)
    assert len(ours[f"trace {compressed[0]}"]) > 1
    assert len(ours["traces 60 d rare"]) > 0
    assert len(ours["traces 60 d model"]) > 0
    assert len(ours["traces 60 d provider page 2"]) == 5
    assert len(ours["traces 60 d text after page 1"]) == 5
    for name, frame in ours.items():
        pd.testing.assert_frame_equal(
            frame.reset_index(drop=True), theirs[name].reset_index(drop=True),
            check_dtype=False, rtol=1e-9, obj=name,
        )  # fmt: skip


def _copy_every_closed_day(engine: Engine) -> None:
    """Do what the idle store writer does: copy each closed day's text for search."""
    create_search_tables(engine)
    while copy_next_day(engine) is not None:
        pass


def _write(url: str, rows: list[SpanRow]) -> StoreDialect:
    """Open the store at ``url`` (as a start of the app would) and write ``rows``."""
    for engine in _engine(url):
        dialect = prepare_store(engine, compress_after_days=7, drop_after_days=90)
        SqlSpanWriter(engine, dialect).write(rows)
    return dialect


def test_stores_in_their_own_schemas(timescale_server: str, store_url: str) -> None:
    admin = store_url.replace("postgresql+psycopg://", "postgresql://", 1).split("?")[0]
    schemas = [f"own_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    urls = [f"{admin}?options=-csearch_path%3D{schema}" for schema in schemas]
    first, second = _rows(30, 300, timedelta(hours=3)), _rows(31, 200, timedelta(hours=4))
    with psycopg.connect(admin, autocommit=True) as conn:
        for schema in schemas:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        assert [_write(url, first) for url in urls] == [StoreDialect.TIMESCALEDB] * 2
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schemas[0]}" CASCADE')
        assert _write(urls[1], second) is StoreDialect.TIMESCALEDB
        for engine in _engine(urls[1]):
            summary = TraceQueries(engine).summary(Window.last(timedelta(days=1), now=NOW))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            for schema in schemas:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    assert summary["requests"].iloc[0] == _calls(first + second)


def test_a_store_with_continuous_aggregates_gets_rollup_tables_with_every_span(
    store: Engine,
) -> None:
    """Stores made by earlier versions kept their rollups as continuous aggregates."""
    prepare_store(store, compress_after_days=7, drop_after_days=90)
    old = _rows(40, 600, timedelta(days=12)) + _rows(41, 400, timedelta(hours=3))
    SqlSpanWriter(store, StoreDialect.TIMESCALEDB).write(old)
    with store.begin() as conn:
        schema = _extension_schema(conn)
        for table, grain, keys, histograms in (
            ("span_rollup_minute", "minute", ("provider", "model", "experiment", "variant",
                                              "scenario"), True),
            ("span_rollup_hour", "hour", ("provider", "model", "experiment", "variant",
                                          "scenario"), True),
            ("span_rollup_spender_hour", "hour", ("user_id", "conversation_id"), False),
        ):  # fmt: skip
            sql = str(
                rollup_query(StoreDialect.POSTGRESQL, grain, keys, histograms=histograms).compile(
                    dialect=store.dialect, compile_kwargs={"literal_binds": True}
                )
            ).replace(
                f"date_trunc('{grain}', spans.start_time, 'UTC')",
                f"{schema}.time_bucket(INTERVAL '1 {grain}', spans.start_time)",
            )
            conn.execute(text(f"DROP TABLE {table}"))
            conn.execute(
                text(f"CREATE MATERIALIZED VIEW {table} WITH (timescaledb.continuous) AS "
                     f"{sql} WITH NO DATA")
            )  # fmt: skip

    assert prepare_store(store, compress_after_days=7, drop_after_days=90) is (
        StoreDialect.TIMESCALEDB
    )
    new = _rows(42, 300, timedelta(days=20))
    SqlSpanWriter(store, StoreDialect.TIMESCALEDB).write(new)

    summary = TraceQueries(store).summary(Window.last(timedelta(days=30), now=NOW))
    assert summary["requests"].iloc[0] == _calls(old + new)


def _days_ago(days: int) -> timedelta:
    """The age of 10:00 UTC ``days`` days ago: spans from then on stay within their day."""
    return NOW - datetime.combine(NOW.date() - timedelta(days=days), time(10), UTC)


def _day(row: SpanRow) -> date:
    return row.start_time.astimezone(UTC).date()


def _search(engine: Engine, text_: str) -> list[str]:
    filters = TraceFilters(start=NOW - timedelta(days=30), text=text_)
    return list(TraceQueries(engine).list_traces(filters, page_size=500).traces["trace_id"])


def test_a_late_span_is_found_before_and_after_its_day_is_copied_again(store: Engine) -> None:
    writer = SqlSpanWriter(store, prepare_store(store, compress_after_days=7, drop_after_days=90))
    rows = _rows(50, 300, _days_ago(3))
    writer.write(rows)
    _copy_every_closed_day(store)
    day = _day(rows[0])
    with store.connect() as conn:
        assert searchable_days(conn) == [day]
    late = _rows(51, 40, _days_ago(3))
    rare = late[0].conversation_id
    assert rare is not None and _day(late[0]) == day
    expected = sorted({r.trace_id for r in late if r.conversation_id == rare})

    writer.write(late)
    with store.connect() as conn:
        stale = searchable_days(conn)
    found_while_stale = _search(store, rare)
    copied = copy_next_day(store)
    with store.connect() as conn:
        current = searchable_days(conn)
        in_copy = conn.execute(
            select(func.count()).select_from(span_search).where(span_search.c.day == day)
        ).scalar_one()

    assert stale == []
    assert sorted(found_while_stale) == expected
    assert (copied, current, in_copy) == (day, [day], len(rows) + len(late))
    assert sorted(_search(store, rare)) == expected


def test_copies_of_days_dropped_by_retention_go(store: Engine) -> None:
    writer = SqlSpanWriter(store, prepare_store(store, compress_after_days=7, drop_after_days=90))
    old, recent = _rows(60, 200, _days_ago(6)), _rows(61, 200, _days_ago(2))
    writer.write(old + recent)
    _copy_every_closed_day(store)
    with store.begin() as conn:
        schema = _extension_schema(conn)
        conn.execute(text(f"SELECT {schema}.drop_chunks('spans', older_than => INTERVAL '4 days')"))

    assert copy_next_day(store) is None
    with store.connect() as conn:
        days = searchable_days(conn)
        indexes = (
            conn.execute(
                text(
                    "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                    "WHERE i.indrelid = to_regclass('span_search') AND c.relname ~ '[0-9]{8}$'"
                )
            )
            .scalars()
            .all()
        )
    assert days == [_day(recent[0])]
    assert indexes == [f"ix_span_search_{_day(recent[0]):%Y%m%d}"]
