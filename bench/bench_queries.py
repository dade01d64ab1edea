"""Median time of every analytics query of ``TraceQueries`` over a million stored spans.

    python -m bench.bench_queries                          # 1,000,000 spans, both backends
    python -m bench.bench_queries --spans 200000 --backend sqlite --runs 3
    python -m bench.bench_queries --backend postgres,timescaledb \
        --timescale-url postgresql://postgres@127.0.0.1:5433/test  # side by side

The spans (``bench._spans``: 30 days up to now, generated a day at a time so the tables fill
in time order as in production) go into a fresh store on each backend: a scratch PostgreSQL
database (created, then dropped) and a SQLite file in a temporary directory. They are written
through the store's own ``SqlSpanWriter`` in batches of ``--batch`` spans, so ``traces`` and the
rollups are filled by the production code; the writer is called directly rather than through
``StoreSpanProcessor`` only because a bounded buffer fed by one thread would drop spans (the
processor adds span → row conversion, done here by the same ``span_to_row``). PostgreSQL then
gets the ``ANALYZE`` autovacuum would run after such a load, and the text index of each closed
day, and SQLite its ``span_text`` index, which the idle store writer would have built as the
spans came (``--no-idle-index``: neither; ``--text-index``: PostgreSQL gets the single trigram
index instead). A TimescaleDB store (a scratch database on the server at ``--timescale-url``)
then has its compression policy run, as it would have run over 30 days (every chunk older than
7 days is compressed, and ``trace_spans (compressed)`` reads a trace from one of them), and then
the copy of each closed day's text for search that its idle writer makes.

``--keep NAME`` loads the server stores into databases called NAME only if they do not exist
yet, and keeps them: later runs with the same NAME reuse them (the load's ``now`` is kept in
the database's comment), so a million spans are written once per server.

Each query runs once to warm caches, then ``--runs`` times, on every backend before the next
query (first on each backend in turn); the table shows the median time of the DataFrame method
(SQL, fetch and pandas). Targets: ≤ 200 ms on PostgreSQL, ≤ 1 s on SQLite.
Minute buckets are timed over the last 24 hours only, day buckets over 7 and 30 days.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, text

from bench._spans import generate_spans, write_spans
from observability.queries import Bucket, Dimension, TraceFilters, TraceQueries, Window
from observability.store import create_store_engine
from observability.store.day_indexes import index_next_day
from observability.store.sqlite_text import create_text_table, index_new_spans
from observability.store.timescale import is_timescale_store
from observability.store.timescale_text import copy_next_day, create_search_tables

DAYS = 30
WINDOWS = {"24 h": timedelta(days=1), "7 d": timedelta(days=7), "30 d": timedelta(days=30)}
TARGET_MS = {"postgresql": 200.0, "timescaledb": 200.0, "sqlite": 1_000.0}
BACKENDS = ("postgres", "timescaledb", "sqlite")
Query = Callable[[TraceQueries], object]


@dataclass(frozen=True)
class Case:
    """One timed query: a label, the window it covers and the call."""

    label: str
    window: str
    run: Query


def load_stores(
    engines: list[Engine], spans: int, batch: int, now: datetime, *, text_index: bool = False
) -> float:
    """Write ``spans`` spans (``DAYS`` days up to ``now``) into every store; seconds taken.
    ``text_index`` gives PostgreSQL stores the trigram index for text search."""
    return write_spans(engines, _spans_in_time_order(spans, now), batch, text_index=text_index)


def compress_old_chunks(engine: Engine) -> str:
    """Run the TimescaleDB store's compression policy now; says what it did and how long."""
    started = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        schema = conn.execute(
            text(
                "SELECT extnamespace::regnamespace::text FROM pg_extension "
                "WHERE extname = 'timescaledb'"
            )
        ).scalar_one()
        job = conn.execute(
            text(
                "SELECT job_id FROM timescaledb_information.jobs "
                "WHERE proc_name = 'policy_compression' AND hypertable_name = 'spans'"
            )
        ).scalar_one()
        conn.execute(text(f"CALL {schema}.run_job({int(job)})"))
        conn.execute(text("ANALYZE"))
        sizes = conn.execute(
            text(
                "SELECT count(*) FILTER (WHERE is_compressed), count(*), "
                f"pg_size_pretty(({schema}.hypertable_size('spans'))) "
                "FROM timescaledb_information.chunks WHERE hypertable_name = 'spans'"
            )
        ).one()
    return (f"timescaledb: compressed {sizes[0]} of {sizes[1]} chunks in "
            f"{time.perf_counter() - started:,.0f} s (spans now {sizes[2]})")  # fmt: skip


def build_idle_indexes(engine: Engine, now: datetime) -> str:
    """Build the text indexes the idle store writer builds as spans come (PostgreSQL: each
    closed day's; TimescaleDB: each closed day's copy; SQLite: ``span_text``); says what it
    built and in how long."""
    started = time.perf_counter()
    with engine.connect() as conn:
        timescale = engine.dialect.name == "postgresql" and is_timescale_store(conn)
    if engine.dialect.name == "sqlite":
        create_text_table(engine)
        spans = 0
        while added := index_new_spans(engine, limit=50_000):
            spans += added
        built = f"indexed {spans:,} spans in span_text"
    elif timescale:
        create_search_tables(engine)
        days = 0
        while copy_next_day(engine, now=now) is not None:
            days += 1
        built = f"copied the text of {days} closed days"
    else:
        days = 0
        while index_next_day(engine, now=now) is not None:
            days += 1
        built = f"built the text indexes of {days} closed days"
    backend = "timescaledb" if timescale else engine.dialect.name
    return f"{backend}: {built} in {time.perf_counter() - started:,.0f} s"


def _spans_in_time_order(count: int, now: datetime) -> Iterator[Any]:
    first = now - timedelta(days=DAYS)
    for day in range(DAYS):
        share = count // DAYS + (day < count % DAYS)
        yield from generate_spans(share, seed=day, start=first + timedelta(days=day), days=1)


def build_cases(now: datetime, trace_id: str, rare: str, old_trace_id: str) -> list[Case]:
    """Every public query, over the windows a dashboard would ask for; ``rare`` is a string
    that a handful of old spans hold (a conversation id from the start of the 30 days), and
    ``old_trace_id`` a trace of that time (in a compressed chunk on TimescaleDB)."""
    cases: list[Case] = []
    for name, length in WINDOWS.items():
        w = Window.last(length, now=now)
        buckets = [Bucket.MINUTE, Bucket.HOUR] if name == "24 h" else [Bucket.HOUR, Bucket.DAY]
        for bucket in buckets:
            for group in (None, Dimension.MODEL, Dimension.PROVIDER, Dimension.USER):
                label = f"usage_over_time {bucket.value} by {group.value if group else '-'}"
                cases.append(Case(label, name, _usage(w, bucket, group)))
        for group in (None, Dimension.PROVIDER, Dimension.MODEL):
            by = group.value if group else "-"
            cases.append(Case(f"latency_percentiles by {by}", name, _latency(w, group)))
        for group in (None, Dimension.MODEL):
            by = group.value if group else "-"
            cases.append(Case(f"reliability by {by}", name, _reliability(w, group)))
        for person in (Dimension.USER, Dimension.CONVERSATION):
            cases.append(Case(f"top_spenders by {person.value}", name, _spenders(w, person)))
        cases.append(Case("summary", name, _summary(w)))
        cases += _trace_list_cases(name, w, rare)
    cases.append(Case("trace_spans", "-", lambda q: q.trace_spans(trace_id)))
    cases.append(Case("trace_spans (compressed)", "-", lambda q: q.trace_spans(old_trace_id)))
    return cases


def _trace_list_cases(name: str, w: Window, rare: str) -> list[Case]:
    every = TraceFilters(start=w.start, end=w.end)
    filters = {
        "list_traces": every,
        "list_traces status=error": replace(every, status="error"),
        "list_traces provider+model": replace(every, provider="anthropic",
                                              model="claude-3-5-haiku"),
        "list_traces min_cost": replace(every, min_cost_usd=0.05),
        "list_traces user": replace(every, user_id="user-42"),
        "list_traces text common": replace(every, text="lookup_order"),
        "list_traces text rare": replace(every, text=rare),
        "list_traces text none": replace(every, text="no such words"),
    }  # fmt: skip
    cases = [Case(label, name, _page(f, 1)) for label, f in filters.items()]
    cases.append(Case("list_traces page 20", name, _page(every, 20)))
    return cases


def _usage(w: Window, bucket: Bucket, group: Dimension | None) -> Query:
    return lambda q: q.usage_over_time(w, bucket, group)


def _latency(w: Window, group: Dimension | None) -> Query:
    return lambda q: q.latency_percentiles(w, group)


def _reliability(w: Window, group: Dimension | None) -> Query:
    return lambda q: q.reliability(w, group)


def _spenders(w: Window, person: Dimension) -> Query:
    return lambda q: q.top_spenders(w, person, limit=10)


def _summary(w: Window) -> Query:
    return lambda q: q.summary(w)


def _page(filters: TraceFilters, page: int) -> Query:
    return lambda q: q.list_traces(filters, page=page, page_size=50)


def time_cases(
    engines: dict[str, Engine], now: datetime, runs: int
) -> dict[str, list[tuple[Case, float]]]:
    """Each case's median time on every backend. A case runs on all backends before the next
    one, first on each backend in turn, so that a busy spell of the machine falls on all."""
    queries = {backend: TraceQueries(engine) for backend, engine in engines.items()}
    cases: dict[str, list[Case]] = {}
    for backend, q in queries.items():
        newest = q.list_traces(page_size=1).traces["trace_id"].iloc[0]
        early = TraceFilters(end=now - timedelta(days=DAYS - 1))
        first = q.list_traces(early, page_size=1).traces.iloc[0]
        cases[backend] = build_cases(
            now, str(newest), str(first["conversation_id"]), str(first["trace_id"])
        )
    results: dict[str, list[tuple[Case, float]]] = {backend: [] for backend in engines}
    order = list(engines)
    for index in range(len(cases[order[0]])):
        shift = index % len(order)
        for backend in order[shift:] + order[:shift]:
            case = cases[backend][index]
            results[backend].append((case, median_ms(queries[backend], case.run, runs)))
    return {backend: results[backend] for backend in engines}


def median_ms(queries: TraceQueries, run: Query, runs: int) -> float:
    """Median wall time of ``run`` over ``runs`` calls, after one warm-up call."""
    run(queries)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run(queries)
        times.append((time.perf_counter() - started) * 1e3)
    return statistics.median(times)


def print_table(results: dict[str, list[tuple[Case, float]]]) -> None:
    """One line per query, a column of median ms per backend; then each backend's count of
    queries within its target."""
    backends = list(results)
    header = "".join(f" {b:>12}" for b in backends)
    print(f"\n{'query':<40} {'window':<6}{header}")
    rows = zip(*results.values(), strict=True)
    for timed in rows:
        case = timed[0][0]
        cells = "".join(
            f" {ms:>10.1f}{'  ' if ms <= TARGET_MS[b] else ' !'}"
            for b, (_, ms) in zip(backends, timed, strict=True)
        )
        print(f"{case.label:<40} {case.window:<6}{cells}")
    print("\n(! = over the target)")
    for backend, timed in results.items():
        target = TARGET_MS[backend]
        within = sum(ms <= target for _, ms in timed)
        print(f"{backend}: {within} of {len(timed)} within {target:,.0f} ms")
    if {"postgresql", "timescaledb"} <= set(results):
        pairs = zip(results["postgresql"], results["timescaledb"], strict=True)
        ratios = [ts / pg for (_, pg), (_, ts) in pairs]
        slower = sum(r > 1.0 for r in ratios)
        print(f"timescaledb / postgresql: median ratio {statistics.median(ratios):.2f}, "
              f"{slower} of {len(ratios)} slower")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument(
        "--backend",
        default="both",
        help="comma-separated: postgres, timescaledb, sqlite ('both' = postgres,sqlite)",
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=20_000)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--timescale-url", default="postgresql://postgres@127.0.0.1:5433/test")
    parser.add_argument("--text-index", action="store_true", help="PostgreSQL: trigram index")
    parser.add_argument(
        "--no-idle-index", action="store_true", help="no text indexes built by the idle writer"
    )
    parser.add_argument(
        "--keep", metavar="NAME", help="server stores in databases NAME, loaded once and kept"
    )
    args = parser.parse_args()
    chosen = args.backend.replace("both", "postgres,sqlite").split(",")
    if unknown := set(chosen) - set(BACKENDS):
        parser.error(f"unknown backend {', '.join(sorted(unknown))}; pick from {BACKENDS}")
    name = args.keep or f"so_qbench_{uuid.uuid4().hex[:8]}"
    servers = {"postgresql": args.admin_url, "timescaledb": args.timescale_url}
    servers = {b: url for b, url in servers.items() if b.startswith(tuple(chosen))}
    with tempfile.TemporaryDirectory() as folder:
        engines: dict[str, Engine] = {}
        loaded: dict[str, datetime] = {}
        for backend, admin_url in servers.items():
            if (at := _kept_load(admin_url, name)) is not None:
                loaded[backend] = at
            engines[backend] = create_store_engine(admin_url.rpartition("/")[0] + f"/{name}")
        if "sqlite" in chosen:
            engines["sqlite"] = create_store_engine(f"sqlite:///{Path(folder) / 'traces.db'}")
        try:
            now = min(loaded.values(), default=datetime.now(UTC).replace(microsecond=0))
            if set(loaded.values()) - {now}:
                parser.error(f"the kept databases {name} were loaded at different times")
            fresh = {b: e for b, e in engines.items() if b not in loaded}
            if fresh:
                seconds = load_stores(
                    list(fresh.values()), args.spans, args.batch, now, text_index=args.text_index
                )
                print(f"loaded {args.spans:,} spans into {', '.join(fresh)} in {seconds:,.0f} s")
            for backend in fresh.keys() & servers.keys():
                _note_load(servers[backend], name, now, args.spans)
            if loaded:
                print(f"reusing {', '.join(loaded)} databases {name}, loaded up to {now}")
            for backend, engine in engines.items():
                if backend == "timescaledb":
                    print(compress_old_chunks(engine))
                if not (args.no_idle_index or (backend != "sqlite" and args.text_index)):
                    print(build_idle_indexes(engine, now))
            print_table(time_cases(engines, now, args.runs))
        finally:
            for engine in engines.values():
                engine.dispose()
            if not args.keep:
                for admin_url in servers.values():
                    with psycopg.connect(admin_url, autocommit=True) as conn:
                        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


_LOAD_NOTE = "bench_queries load up to "


def _kept_load(admin_url: str, name: str) -> datetime | None:
    """Create database ``name`` on the server if it is missing; the ``now`` its spans were
    loaded up to, when it was there already (``None`` for a new one)."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (name,),
        ).fetchone()
        if row is None:
            conn.execute(f'CREATE DATABASE "{name}"')
            return None
    note = row[0] or ""
    if not note.startswith(_LOAD_NOTE):
        raise SystemExit(f"database {name} exists but no load finished in it: drop it first")
    return datetime.fromisoformat(note.removeprefix(_LOAD_NOTE).split(" ")[0])


def _note_load(admin_url: str, name: str, now: datetime, spans: int) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        note = f"{_LOAD_NOTE}{now.isoformat()} ({spans:,} spans)"
        conn.execute(f"COMMENT ON DATABASE \"{name}\" IS '{note}'")


if __name__ == "__main__":
    main()
