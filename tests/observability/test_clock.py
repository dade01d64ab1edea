"""``simulated_clock``: spans and rows dated in the past inside the block, real time elsewhere."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from opentelemetry import trace

from core.db.models import utcnow
from observability import context, span
from observability.clock import now_ns, perf_counter, simulated_clock, sleep
from tests.observability.conftest import Traced

TRACER = trace.get_tracer("tests.clock")
PAST = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def _at(ns: int | None) -> datetime:
    assert ns is not None
    return datetime.fromtimestamp(ns / 1e9, UTC)


def test_spans_in_the_block_start_and_end_on_the_simulated_clock(traced: Traced) -> None:
    with simulated_clock(PAST) as clock, TRACER.start_as_current_span("turn"):
        clock.advance(2.5)
        with span("step"):
            clock.advance(0.5)

    turn, step = traced.named("turn"), traced.named("step")
    assert abs(_at(turn.start_time) - PAST) < timedelta(seconds=1)
    assert (turn.end_time or 0) - (turn.start_time or 0) >= 3e9
    assert _at(step.start_time) - _at(turn.start_time) >= timedelta(seconds=2.5)
    assert step.parent is not None and step.parent.span_id == turn.context.span_id


def test_a_span_started_with_its_own_time_keeps_it(traced: Traced) -> None:
    given = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp() * 1e9)
    with simulated_clock(PAST):
        TRACER.start_span("annotation", start_time=given).end(end_time=given)

    assert traced.only().start_time == given


def test_other_threads_keep_the_real_clock_meanwhile(traced: Traced) -> None:
    inside, outside = threading.Event(), threading.Event()

    def live() -> None:
        inside.wait(10)
        TRACER.start_span("live").end()
        outside.set()

    worker = threading.Thread(target=live)
    worker.start()
    with simulated_clock(PAST):
        inside.set()
        outside.wait(10)
        TRACER.start_span("history").end()
    worker.join()

    assert abs(_at(traced.named("live").start_time) - datetime.now(UTC)) < timedelta(minutes=1)
    assert _at(traced.named("history").start_time) < PAST + timedelta(minutes=1)


def test_after_the_block_spans_are_live_again(traced: Traced) -> None:
    with simulated_clock(PAST):
        pass
    TRACER.start_span("after").end()

    assert abs(_at(traced.only().start_time) - datetime.now(UTC)) < timedelta(minutes=1)


def test_rows_are_dated_by_the_same_clock() -> None:
    with simulated_clock(PAST) as clock:
        clock.advance(60)
        inside = utcnow()
    outside = utcnow()

    assert PAST + timedelta(seconds=60) <= inside < PAST + timedelta(seconds=61)
    assert abs(outside - datetime.now(UTC)) < timedelta(seconds=5)


def test_sleep_advances_the_simulated_clock_without_waiting() -> None:
    with simulated_clock(PAST):
        before_ns, before_perf, wall = now_ns(), perf_counter(), time.perf_counter()
        sleep(3600)
        assert now_ns() - before_ns >= 3600e9
        assert perf_counter() - before_perf >= 3600
    assert time.perf_counter() - wall < 5


def test_environment_is_stamped_on_every_span_of_the_block(traced: Traced) -> None:
    with context(environment="demo"):
        TRACER.start_span("history").end()
    TRACER.start_span("live").end()

    assert traced.named("history").attributes["deployment.environment.name"] == "demo"
    assert "deployment.environment.name" not in (traced.named("live").attributes or {})
