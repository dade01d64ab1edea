"""Time every query the Analytics page runs, over a million spans in 30 days, and the export.

    python -m bench.bench_dashboard                         # 1,000,000 spans, both backends
    python -m bench.bench_dashboard --spans 100000 --backend sqlite --runs 3

The spans are ``bench._spans`` traces (30 days up to now, a day at a time) with, in each trace,
the spans a chat turn adds besides its LLM calls: a ``turn`` with a quality score and status,
and now and then a customer's vote (``annotation feedback``, one trace in ten), a hand-off
(``summarise_escalation``, one in fifty) and a PII redaction (``redact_pii``, one in five);
a quarter of the conversations are labelled demo traffic (``deployment.environment.name``).
They are written through the store's ``SqlSpanWriter`` into a scratch PostgreSQL database
and a SQLite file, as in ``bench_queries``.

The page's data for a view is: the filter options, the two periods (KPI tiles, latency, model
table), the series over time, the turns (quality, votes, redactions), and the breakdowns by
customer and by conversation, plus the pandas that turns them into tiles and chart frames.
Each runs once to warm caches, then ``--runs`` times; the median is shown. Views: the default
(last 24 hours, no filter), the last 30 days, a filtered week (provider, variant, scenario,
no demo traffic) and one customer over 30 days (read from the spans). Targets: each query
≤ 200 ms and the page's data ≤ 500 ms on PostgreSQL; the page's data ≤ 1.5 s on SQLite.
The page caches each answer for 5 s on top of this; these are the uncached times.

Then the export of the 30 days (every span, ``iter_export`` in chunks of 10,000) as CSV and
Parquet: spans per second, and peak memory held meanwhile (Python objects by ``tracemalloc``,
Arrow buffers by its memory pool), against the size of the file produced.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags
from sqlalchemy import Engine

from bench._spans import RESOURCE, generate_spans, write_spans
from observability import dashboard
from observability.analytics import AnalyticsQueries
from observability.export import ExportFormat, iter_export
from observability.queries import AnalyticsFilters, Dimension, Window
from observability.store import create_store_engine

DAYS = 30
QUERY_TARGET_MS = {"postgresql": 200.0, "sqlite": 1_500.0}
PAGE_TARGET_MS = {"postgresql": 500.0, "sqlite": 1_500.0}
DEMO = Resource.create({"service.name": "bench", "deployment.environment.name": "demo"})
Step = Callable[[AnalyticsQueries, dict[str, Any]], Any]


@dataclass(frozen=True)
class PageView:
    """A view of the page: its name, range and filters."""

    name: str
    length: timedelta
    filters: AnalyticsFilters


def turn_spans(
    trace_id: int, at: int, ids: dict[str, Any], rng: random.Random
) -> list[ReadableSpan]:
    """The non-call spans of a chat turn in this trace."""
    made = [("turn", {**ids, "observatory.quality.score": round(rng.random(), 2),
                      "observatory.turn.status": "answered"})]  # fmt: skip
    if rng.random() < 0.1:
        vote = 1 if rng.random() < 0.8 else -1
        voted = {"observatory.annotation.value": vote, "observatory.annotation.made_at": "2026"}
        made.append(("annotation feedback", voted))
    if rng.random() < 0.02:
        made.append(("summarise_escalation", dict(ids)))
    if rng.random() < 0.2:
        kinds = rng.sample(["email", "phone", "card", "iban"], rng.randint(1, 2))
        made.append(("redact_pii", {**ids, "observatory.pii.kinds": tuple(sorted(kinds))}))
    return [
        ReadableSpan(
            name=name,
            context=SpanContext(trace_id, rng.getrandbits(64) | 1, False, TraceFlags(1)),
            parent=None,
            resource=RESOURCE,
            attributes=attributes,
            kind=SpanKind.INTERNAL,
            status=Status(StatusCode.OK),
            start_time=at,
            end_time=at + 1_000_000,
        )
        for name, attributes in made
    ]


def page_spans(count: int, now: datetime) -> Iterator[ReadableSpan]:
    """``count`` spans over ``DAYS`` days up to ``now``: generated traces plus turn spans."""
    rng = random.Random(3)
    first, produced = now - timedelta(days=DAYS), 0
    for day in range(DAYS):
        share = (count - produced) // (DAYS - day)
        made = 0
        for span in generate_spans(share, seed=day, start=first + timedelta(days=day), days=1):
            demo = span.context is not None and span.context.trace_id % 4 == 1
            if demo:
                span._resource = DEMO
            yield span
            made += 1
            if span.parent is None and span.context is not None and made < share:
                ids = {k: v for k, v in (span.attributes or {}).items() if k != "observatory.route"}
                for extra in turn_spans(span.context.trace_id, span.start_time or 0, ids, rng):
                    extra._resource = span.resource
                    yield extra
                    made += 1
        produced += made


def load(engines: list[Engine], spans: int, batch: int, now: datetime) -> float:
    """Write ``spans`` spans into every store; seconds taken."""
    return write_spans(engines, page_spans(spans, now), batch)


def page_steps(view: PageView, now: datetime) -> list[tuple[str, Step]]:
    """What the page runs for ``view``, in order; each step may read earlier answers."""
    window = Window.last(view.length, now=now)
    f = view.filters

    def frames(_: AnalyticsQueries, got: dict[str, Any]) -> Any:
        periods, outcomes, over_time = got["periods"], got["outcomes"], got["over_time"]
        dashboard.tiles(periods, outcomes)
        dashboard.cost_frame(over_time, "model")
        dashboard.request_frame(over_time, "model")
        dashboard.token_frame(over_time)
        dashboard.latency_frame(periods)
        dashboard.reliability_frame(over_time)
        dashboard.cache_frame(over_time)
        dashboard.quality_frame(outcomes)
        dashboard.redaction_frame(outcomes)
        return dashboard.model_table(periods, outcomes)

    return [
        ("options", lambda q, _: q.options(window)),
        ("periods", lambda q, _: q.periods(window, f)),
        ("over_time", lambda q, _: q.over_time(window, f)),
        ("outcomes", lambda q, _: q.outcomes(window, f)),
        ("spenders by customer", lambda q, _: q.spenders(window, f, Dimension.USER)),
        ("spenders by conversation", lambda q, _: q.spenders(window, f, Dimension.CONVERSATION)),
        ("tiles and chart frames (pandas)", frames),
    ]


def time_view(queries: AnalyticsQueries, view: PageView, now: datetime, runs: int) -> list[float]:
    """Median ms of each step of ``view``."""
    steps = page_steps(view, now)
    timings: list[list[float]] = [[] for _ in steps]
    for run in range(runs + 1):
        got: dict[str, Any] = {}
        for i, (name, step) in enumerate(steps):
            started = time.perf_counter()
            got[name] = step(queries, got)
            if run:
                timings[i].append((time.perf_counter() - started) * 1e3)
    return [statistics.median(t) for t in timings]


def time_export(engine: Engine, now: datetime, fmt: ExportFormat) -> str:
    """Export the 30 days: rate, peak memory and file size."""
    window = Window(now - timedelta(days=DAYS + 1), now + timedelta(minutes=1))
    pool = pa.default_memory_pool()
    tracemalloc.start()
    started = time.perf_counter()
    size = chunks = 0
    for chunk in iter_export(engine, window, AnalyticsFilters(), fmt):
        size += len(chunk)
        chunks += 1
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return (
        f"{fmt.value:>8}: {seconds:6.1f} s, {size / 1e6:7.1f} MB in {chunks} chunks; peak "
        f"Python memory {peak / 1e6:.1f} MB, Arrow pool peak {pool.max_memory() / 1e6:.1f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--backend", default="both", help="postgres, sqlite or both")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=20_000)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-export", action="store_true")
    args = parser.parse_args()
    chosen = args.backend.replace("both", "postgres,sqlite").split(",")
    name = f"so_dbench_{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as folder:
        engines: dict[str, Engine] = {}
        if "postgres" in chosen:
            with psycopg.connect(args.admin_url, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            engines["postgresql"] = create_store_engine(
                args.admin_url.rpartition("/")[0] + f"/{name}"
            )
        if "sqlite" in chosen:
            engines["sqlite"] = create_store_engine(f"sqlite:///{Path(folder) / 'traces.db'}")
        try:
            run(engines, args)
        finally:
            for engine in engines.values():
                engine.dispose()
            if "postgres" in chosen:
                with psycopg.connect(args.admin_url, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(engines: dict[str, Engine], args: argparse.Namespace) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    seconds = load(list(engines.values()), args.spans, args.batch, now)
    print(f"loaded {args.spans:,} spans into {', '.join(engines)} in {seconds:,.0f} s")
    some = next(iter(engines.values()))
    customer = str(
        AnalyticsQueries(some).spenders(Window.last(timedelta(days=DAYS), now=now),
                                        AnalyticsFilters(), Dimension.USER, top=1)["user_id"][0]
    )  # fmt: skip
    views = [
        PageView("default: last 24 hours", timedelta(days=1), AnalyticsFilters()),
        PageView("last 30 days", timedelta(days=DAYS), AnalyticsFilters()),
        PageView(
            "7 days, anthropic, treatment, returns, no demo",
            timedelta(days=7),
            AnalyticsFilters(
                provider="anthropic", variant="treatment", scenario="returns", environment=""
            ),
        ),
        PageView(
            f"30 days, customer {customer}",
            timedelta(days=DAYS),
            AnalyticsFilters(customer=customer),
        ),
    ]
    for view in views:
        print(f"\n{view.name}")
        print(f"{'query':<34}" + "".join(f"{b:>14}" for b in engines))
        results = {
            b: time_view(AnalyticsQueries(e), view, now, args.runs) for b, e in engines.items()
        }
        steps = [name for name, _ in page_steps(view, now)]
        for i, step in enumerate(steps):
            cells = "".join(
                f"{ms[i]:>12.1f}{' !' if ms[i] > QUERY_TARGET_MS[b] else '  '}"
                for b, ms in results.items()
            )
            print(f"{step:<34}{cells}")
        totals = "".join(
            f"{sum(ms):>12.1f}{' !' if sum(ms) > PAGE_TARGET_MS[b] else '  '}"
            for b, ms in results.items()
        )
        print(f"{'page data total':<34}{totals}")
    print("\n(! = over the target: a query 200 ms on PostgreSQL; the page 500 ms on PostgreSQL, "
          "1.5 s on SQLite)")  # fmt: skip
    if not args.no_export:
        for backend, engine in engines.items():
            print(f"\nexport of every span of the {DAYS} days from {backend}")
            for fmt in (ExportFormat.CSV, ExportFormat.PARQUET):
                print(time_export(engine, now, fmt))


if __name__ == "__main__":
    main()
