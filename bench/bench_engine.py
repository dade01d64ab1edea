"""The conversation engine's own cost per turn, and a load run with nothing lost.

    python bench/bench_engine.py                 # overhead, then a 5-minute load run
    python bench/bench_engine.py --load-seconds 60

Overhead: every turn on the simulator at speed 0; the time spent inside the router (the model's
part, including the simulator composing its answer) is measured and subtracted, so what is left is
the engine's own work — rate limit, PII, retrieval, budgeting, cache, tools, quality, storage.

Load: 100 simulated customers send 1,000 messages a minute between them (the simulator at real
speed, so answers stream as they would in a demo). The seed has fewer customers than that, so the
load run adds load-test customers to its own scratch database until there are ``--users``
distinct ones. At the end every message must be stored with its answer and every span must be in
the trace store.

    python bench/bench_engine.py --turns 0 --load-seconds 20    # a short smoke run of the load
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from sqlalchemy import func, text
from sqlmodel import Session, select

from core.conversation import TurnRequest
from core.db import create_db_engine, init_schema
from core.db.models import Message, MessageRole, Role, User
from core.router import Router
from core.services import Services, create_services
from core.settings import AppSettings, ProviderSettings, Settings
from seed.knowledge_base import seed_knowledge_base
from seed.loader import seed_database

QUESTIONS = (
    "How long do I have to return boots I bought last month?",
    "When will my refund show up on my card?",
    "Is shipping free if I spend 80 dollars?",
    "I forgot my password and the reset email never came",
    "Can I pay with PayPal or Apple Pay?",
    "My jacket zip broke after two months, is that covered?",
    "How do I book a bike service in Seattle?",
    "What does Trail Club membership cost and what do I get?",
    "Do you ship to Canada and who pays customs?",
    "How do I delete my account and my data?",
    "What are your phone support hours on Saturday?",
    "Can I use two promo codes on one order?",
)


class _Counter(SpanProcessor):
    """Counts every span that ends, to check none is lost on the way to the store."""

    def __init__(self) -> None:
        self.ended = 0
        self._lock = threading.Lock()

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        with self._lock:
            self.ended += 1


class _TimedRouter:
    """A router proxy that adds up the time spent inside model calls on this thread."""

    def __init__(self, router: Router) -> None:
        self._router = router
        self.local = threading.local()

    def spent(self) -> float:
        return float(getattr(self.local, "spent", 0.0))

    def reset(self) -> None:
        self.local.spent = 0.0

    def chat(self, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return self._router.chat(*args, **kwargs)
        finally:
            self.local.spent = self.spent() + time.perf_counter() - started

    def stream(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        iterator = iter(self._router.stream(*args, **kwargs))
        while True:
            started = time.perf_counter()
            try:
                item = next(iterator)
            except StopIteration:
                self.local.spent = self.spent() + time.perf_counter() - started
                return
            self.local.spent = self.spent() + time.perf_counter() - started
            yield item

    def __getattr__(self, name: str) -> Any:
        return getattr(self._router, name)


def build(data_dir: Path, speed: float, trace_store_url: str | None) -> tuple[Services, _Counter]:
    settings = Settings(
        app=AppSettings(data_dir=data_dir, seed_on_start=False),
        providers=ProviderSettings(simulator_speed=speed),
        tracing={"store_url": trace_store_url} if trace_store_url else {},  # type: ignore[arg-type]
    )
    db = create_db_engine(settings.database_url)
    init_schema(db)
    seed_database(db, today=datetime.now(UTC).date(), timezone=settings.app.store_timezone)
    services = create_services(settings, db)
    seed_knowledge_base(services.kb)
    counter = _Counter()
    services.observatory.tracer_provider.add_span_processor(counter)
    return services, counter


def customers(services: Services) -> list[int]:
    with Session(services.db) as session:
        return [u.id or 0 for u in session.exec(select(User).where(User.role == Role.CUSTOMER))]


def load_customers(services: Services, count: int) -> list[int]:
    """``count`` distinct customers: the seeded ones, then load-test customers added to this
    run's scratch database (never to the seed) until there are enough."""
    known = customers(services)
    extra = [
        User(name=f"Load Tester {n}", email=f"load-tester-{n}@bench.invalid", role=Role.CUSTOMER)
        for n in range(len(known) + 1, count + 1)
    ]
    with Session(services.db) as session:
        session.add_all(extra)
        session.commit()
        known += [user.id or 0 for user in extra]
    return known[:count]


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure_overhead(turns: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        services, _ = build(Path(folder), speed=0.0, trace_store_url=None)
        timed = _TimedRouter(services.router)
        object.__setattr__(services.engine.parts, "router", timed)
        users = customers(services)
        own: list[float] = []
        total: list[float] = []
        for number in range(turns):
            timed.reset()
            question = f"{QUESTIONS[number % len(QUESTIONS)]} (#{number})"
            started = time.perf_counter()
            services.engine.send(TurnRequest(user_id=users[number % len(users)], text=question))
            elapsed = time.perf_counter() - started
            if number >= 10:
                total.append(elapsed * 1000)
                own.append((elapsed - timed.spent()) * 1000)
        services.close()
    print(f"engine overhead per turn over {len(own)} turns (simulator at speed 0):")
    for label, values in (("own work  ", own), ("whole turn", total)):
        p50, p95 = statistics.median(values), percentile(values, 0.95)
        print(f"  {label} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms")


def run_load(seconds: float, users_count: int, per_minute: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        services, counter = build(Path(folder), speed=1.0, trace_store_url=None)
        users = load_customers(services, users_count)
        interval = 60.0 / per_minute
        total = int(seconds / interval)
        outcomes: dict[str, int] = {}
        latencies: list[float] = []
        lock = threading.Lock()
        services.observatory.force_flush()
        spans_before = _stored_spans(services)
        ended_before = counter.ended

        def one(number: int) -> None:
            user = users[number % len(users)]
            question = f"{QUESTIONS[number % len(QUESTIONS)]} (load #{number})"
            asked = time.perf_counter()
            result = services.engine.send(TurnRequest(user_id=user, text=question))
            with lock:
                latencies.append(time.perf_counter() - asked)
                outcomes[result.status.value] = outcomes.get(result.status.value, 0) + 1

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=users_count) as pool:
            for number in range(total):
                delay = started + number * interval - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                pool.submit(one, number)
            offered = time.perf_counter() - started
        elapsed = time.perf_counter() - started
        services.observatory.force_flush()
        with Session(services.db) as session:
            stored_user = session.exec(
                select(func.count()).select_from(Message).where(Message.role == MessageRole.USER)
            ).one()
            stored_answers = session.exec(
                select(func.count())
                .select_from(Message)
                .where(Message.role == MessageRole.ASSISTANT)
            ).one()
        spans_stored = _stored_spans(services) - spans_before
        ended = counter.ended - ended_before
        stats = services.observatory.store_stats()
        services.close()
    print(
        f"load: {total} messages from {len(set(users))} distinct users, sent over {offered:.0f} s "
        f"({total / offered * 60:.0f}/min); the last answer came {elapsed:.0f} s after the first "
        "message"
    )
    p50, p95 = statistics.median(latencies), percentile(latencies, 0.95)
    print(f"  turn latency under load p50 {p50:.2f} s   p95 {p95:.2f} s   outcomes {outcomes}")
    print(
        f"  messages stored {stored_user}/{total}, answers stored {stored_answers}; "
        f"lost messages {total - stored_user}"
    )
    dropped = stats.dropped if stats else 0
    print(
        f"  spans ended {ended}, written to the store {spans_stored}, dropped {dropped}; "
        f"lost spans {ended - spans_stored}"
    )


def _stored_spans(services: Services) -> int:
    with Session(services.db) as session:
        return int(session.exec(text("SELECT count(*) FROM spans")).one()[0])  # type: ignore[call-overload]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=210, help="0 skips the overhead run")
    parser.add_argument("--load-seconds", type=float, default=300.0)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--per-minute", type=int, default=1000)
    args = parser.parse_args()
    if args.turns > 10:
        measure_overhead(args.turns)
    if args.load_seconds > 0:
        run_load(args.load_seconds, args.users, args.per_minute)


if __name__ == "__main__":
    main()
