"""A simulated clock carried in the OpenTelemetry context, for traffic dated in the past.

``with simulated_clock(at):`` puts a ``SimulatedClock`` in the current OTel context. Inside the
block, and only there, every span started through an Observatory's tracers gets its start, end
and event times from that clock, and ``now_ns()`` reads it; ``advance(seconds)`` moves it
forward without sleeping (the simulator's latency and the router's backoff use it). Other
threads and sessions of the process keep the real clock: nothing global changes.

The clock runs on from ``at`` in real time, plus whatever was advanced; ``perf_counter()``
counts the advances too, so durations measured with it (time to first chunk) match the spans.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Link, Span, SpanContext, SpanKind, Status, StatusCode
from opentelemetry.util.types import AttributeValue

_CLOCK_KEY = otel_context.create_key("observatory.clock")


class SimulatedClock:
    """Time that starts at a chosen moment and can be advanced without waiting."""

    def __init__(self, at: datetime) -> None:
        self._lock = threading.Lock()
        self._offset_ns = 0
        self._advanced_s = 0.0
        self.jump_to(at)

    def now_ns(self) -> int:
        """Nanoseconds since the epoch on this clock."""
        return time.time_ns() + self._offset_ns

    def now(self) -> datetime:
        """This clock's time, aware, in UTC."""
        return datetime.fromtimestamp(self.now_ns() / 1e9, UTC)

    def advance(self, seconds: float) -> None:
        """Move the clock ``seconds`` forward (negative values are ignored)."""
        if seconds <= 0:
            return
        with self._lock:
            self._offset_ns += int(seconds * 1e9)
            self._advanced_s += seconds

    def jump_to(self, at: datetime) -> None:
        """Set the clock to ``at`` (aware) from now on."""
        with self._lock:
            self._offset_ns = int(at.timestamp() * 1e9) - time.time_ns()

    @property
    def advanced_s(self) -> float:
        """Seconds advanced so far, in total."""
        return self._advanced_s


@contextmanager
def simulated_clock(at: datetime) -> Iterator[SimulatedClock]:
    """Run the block on a clock set to ``at``; yields the clock (to advance or move it)."""
    clock = SimulatedClock(at)
    token = otel_context.attach(otel_context.set_value(_CLOCK_KEY, clock))
    try:
        yield clock
    finally:
        otel_context.detach(token)


def current_clock(context: otel_context.Context | None = None) -> SimulatedClock | None:
    """The simulated clock in force in ``context`` (or the current one), if any."""
    clock = otel_context.get_value(_CLOCK_KEY, context)
    return clock if isinstance(clock, SimulatedClock) else None


def now_ns(context: otel_context.Context | None = None) -> int:
    """Nanoseconds since the epoch: the simulated clock's in its block, else the real one."""
    clock = current_clock(context)
    return clock.now_ns() if clock is not None else time.time_ns()


def now() -> datetime:
    """The current time, aware, in UTC, on the simulated clock in its block."""
    return datetime.fromtimestamp(now_ns() / 1e9, UTC)


def perf_counter() -> float:
    """``time.perf_counter()`` plus the seconds the current simulated clock was advanced."""
    clock = current_clock()
    return time.perf_counter() + (clock.advanced_s if clock is not None else 0.0)


def sleep(seconds: float) -> None:
    """Advance the current simulated clock by ``seconds``, or really sleep outside one."""
    clock = current_clock()
    if clock is not None:
        clock.advance(seconds)
    elif seconds > 0:
        time.sleep(seconds)


class ClockedTracer(trace.Tracer):
    """Starts spans with ``inner``; inside a ``simulated_clock`` block their times come from it."""

    def __init__(self, inner: trace.Tracer) -> None:
        self._inner = inner

    def start_span(
        self,
        name: str,
        context: otel_context.Context | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Mapping[str, AttributeValue] | None = None,
        links: Sequence[Link] | None = None,
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
    ) -> Span:
        """As the SDK's ``start_span``; a simulated clock in ``context`` sets the times."""
        clock = current_clock(context)
        if clock is not None and start_time is None:
            start_time = clock.now_ns()
        span = self._inner.start_span(
            name,
            context,
            kind,
            attributes,
            links,
            start_time,
            record_exception,
            set_status_on_exception,
        )
        return span if clock is None else ClockedSpan(span, clock)

    @contextmanager
    def start_as_current_span(  # type: ignore[override]
        self,
        name: str,
        context: otel_context.Context | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Mapping[str, AttributeValue] | None = None,
        links: Sequence[Link] | None = None,
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
        end_on_exit: bool = True,
    ) -> Iterator[Span]:
        """As the SDK's ``start_as_current_span``, on the simulated clock when one is set."""
        span = self.start_span(
            name,
            context,
            kind,
            attributes,
            links,
            start_time,
            record_exception,
            set_status_on_exception,
        )
        with trace.use_span(
            span,
            end_on_exit=end_on_exit,
            record_exception=record_exception,
            set_status_on_exception=set_status_on_exception,
        ) as current:
            yield current


class ClockedSpan(Span):
    """An SDK span whose end and event times default to a simulated clock's."""

    def __init__(self, inner: Span, clock: SimulatedClock) -> None:
        self._inner = inner
        self._clock = clock

    def end(self, end_time: int | None = None) -> None:
        """End at ``end_time``, or now on the simulated clock."""
        self._inner.end(end_time if end_time is not None else self._clock.now_ns())

    def get_span_context(self) -> SpanContext:
        """The wrapped span's context."""
        return self._inner.get_span_context()

    def set_attributes(self, attributes: Mapping[str, AttributeValue]) -> None:
        """Set attributes on the wrapped span."""
        self._inner.set_attributes(attributes)

    def set_attribute(self, key: str, value: AttributeValue) -> None:
        """Set one attribute on the wrapped span."""
        self._inner.set_attribute(key, value)

    def add_event(
        self,
        name: str,
        attributes: Mapping[str, AttributeValue] | None = None,
        timestamp: int | None = None,
    ) -> None:
        """Add an event, stamped on the simulated clock unless ``timestamp`` is given."""
        moment = timestamp if timestamp is not None else self._clock.now_ns()
        self._inner.add_event(name, attributes, moment)

    def add_link(
        self, context: SpanContext, attributes: Mapping[str, AttributeValue] | None = None
    ) -> None:
        """Link the wrapped span to another."""
        self._inner.add_link(context, attributes)

    def update_name(self, name: str) -> None:
        """Rename the wrapped span."""
        self._inner.update_name(name)

    def is_recording(self) -> bool:
        """Whether the wrapped span still records."""
        return self._inner.is_recording()

    def set_status(self, status: Status | StatusCode, description: str | None = None) -> None:
        """Set the wrapped span's status."""
        self._inner.set_status(status, description)

    def record_exception(
        self,
        exception: BaseException,
        attributes: Mapping[str, AttributeValue] | None = None,
        timestamp: int | None = None,
        escaped: bool = False,
    ) -> None:
        """Record an exception event, stamped on the simulated clock unless given a time."""
        moment = timestamp if timestamp is not None else self._clock.now_ns()
        self._inner.record_exception(exception, attributes, moment, escaped)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
