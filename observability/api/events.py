"""Live events for websocket subscribers: ``trace_created`` when a trace's root span ends (ours
or ingested), ``cost_threshold`` when that trace cost at least the threshold, and ``anomaly``.

The anomaly seam: whatever detects anomalies publishes them here, e.g. from the app's wiring
``server.services.events.publish(EventType.ANOMALY, {"metric": ..., "value": ..., ...})``;
subscribers to ``anomaly`` receive the payload as it is given.

Publishing never waits for a subscriber: each has a bounded queue, and one that falls behind by
``ApiConfig.ws_queue_events`` is dropped (its websocket closed), never the publisher slowed.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from observability import attributes as attr
from observability.store.rows import SpanRow

logger = logging.getLogger("observability.api")
_Root = TypeVar("_Root")
OPEN_TRACES = 10_000
"""Traces whose cost so far is kept until their root span ends (the oldest are forgotten)."""


class EventType(StrEnum):
    """What a websocket client can subscribe to."""

    TRACE_CREATED = "trace_created"
    COST_THRESHOLD = "cost_threshold"
    ANOMALY = "anomaly"


@dataclass
class Subscription:
    """One websocket client: the events it wants and its bounded queue (on its event loop)."""

    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[dict[str, Any]]
    events: set[EventType] = field(default_factory=set)
    cost_threshold_usd: float | None = None
    dropped: asyncio.Event = field(default_factory=asyncio.Event)


class EventHub:
    """Fans events out to subscriptions, from any thread."""

    def __init__(self, *, queue_events: int, on_drop: Callable[[], None] | None = None) -> None:
        self._queue_events = queue_events
        self._on_drop = on_drop
        self._subscriptions: list[Subscription] = []
        self._lock = threading.Lock()

    def subscribe(self) -> Subscription:
        """A new subscription on the running event loop (it wants nothing until told)."""
        subscription = Subscription(asyncio.get_running_loop(), asyncio.Queue(self._queue_events))
        with self._lock:
            self._subscriptions.append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Stop sending to ``subscription``."""
        with self._lock:
            if subscription in self._subscriptions:
                self._subscriptions.remove(subscription)

    def wants(self, kind: EventType) -> bool:
        """Whether any subscription wants ``kind`` (so a publisher can skip making events no
        one would get)."""
        with self._lock:
            return any(kind in s.events for s in self._subscriptions)

    def publish(self, kind: EventType, data: Mapping[str, Any], *, cost_usd: float = 0.0) -> None:
        """Send ``{"type", "at", "data"}`` to every subscription that wants ``kind``
        (``cost_threshold`` only to those whose threshold ``cost_usd`` reaches, with that
        threshold added to its data)."""
        event: dict[str, Any] = {
            "type": kind.value,
            "at": datetime.now(UTC).isoformat(),
            "data": dict(data),
        }
        with self._lock:
            targets = [s for s in self._subscriptions if kind in s.events]
        for subscription in targets:
            sent = event
            if kind is EventType.COST_THRESHOLD:
                threshold = subscription.cost_threshold_usd or 0.0
                if cost_usd < threshold:
                    continue
                sent = {**event, "data": {**event["data"], "threshold_usd": threshold}}
            try:
                subscription.loop.call_soon_threadsafe(self._offer, subscription, sent)
            except RuntimeError:  # its loop has closed
                self.unsubscribe(subscription)

    def _offer(self, subscription: Subscription, event: dict[str, Any]) -> None:
        if subscription.dropped.is_set():
            return
        try:
            subscription.queue.put_nowait(event)
        except asyncio.QueueFull:
            subscription.dropped.set()
            self.unsubscribe(subscription)
            if self._on_drop is not None:
                self._on_drop()


class TraceEvents(SpanProcessor):
    """Publishes ``trace_created`` (and, for a trace that cost anything, ``cost_threshold``,
    which the hub sends on to the subscribers whose threshold it reaches) as root spans end.
    Add it to a tracer provider for this process's spans (a span whose parent is in another
    process is the root of this process's part); the OTLP receiver calls ``observe_rows``
    with the rows it takes (a row without a parent is the root, and its cost is the row's)."""

    def __init__(
        self, hub: EventHub, *, price: Callable[[Mapping[str, Any]], float | None]
    ) -> None:
        self._hub = hub
        self._price = price
        self._open: OrderedDict[int, tuple[float, int]] = OrderedDict()
        self._lock = threading.Lock()

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        """Nothing to do when a span starts."""

    def on_end(self, span: ReadableSpan) -> None:
        """Count the span's cost into its trace; publish when it is the root."""
        self.observe((span,))

    def observe(self, spans: Iterable[ReadableSpan]) -> None:
        """SDK spans that have ended, in any order within a batch (roots last or not)."""
        ended: list[tuple[int, float, ReadableSpan | None]] = []
        for span in spans:
            context = span.context
            if context is None:
                continue
            root = span.parent is None or span.parent.is_remote
            ended.append((context.trace_id, self._cost(span), span if root else None))
        for span, cost, count in self._tally(ended):
            if self._wanted(cost):
                self._publish(_span_event(span, count, cost), cost)

    def observe_rows(self, rows: Iterable[SpanRow]) -> None:
        """Stored rows of spans that have ended (the OTLP receiver's), in any order."""
        ended = [
            (int(row.trace_id, 16), row.cost_usd or 0.0, None if row.parent_span_id else row)
            for row in rows
        ]
        for row, cost, count in self._tally(ended):
            if self._wanted(cost):
                self._publish(_row_event(row, count, cost), cost)

    def _tally(
        self, ended: list[tuple[int, float, _Root | None]]
    ) -> list[tuple[_Root, float, int]]:
        """Add each span's cost to its trace, the batch's roots last; the roots with their
        trace's cost and span count (their traces forgotten)."""
        roots: list[tuple[_Root, float, int]] = []
        ended.sort(key=lambda one: one[2] is not None)
        with self._lock:
            for trace_id, span_cost, root in ended:
                cost, count = self._open.pop(trace_id, (0.0, 0))
                cost += span_cost
                count += 1
                if root is not None:
                    roots.append((root, cost, count))
                else:
                    self._open[trace_id] = (cost, count)
                    if len(self._open) > OPEN_TRACES:
                        self._open.popitem(last=False)
        return roots

    def _cost(self, span: ReadableSpan) -> float:
        attributes = span.attributes or {}
        given = attributes.get(attr.COST_USD)
        if isinstance(given, int | float):
            return float(given)
        if attributes.get(attr.USAGE_INPUT_TOKENS) is None:
            return 0.0
        return self._price(attributes) or 0.0

    def _wanted(self, cost: float) -> bool:
        return self._hub.wants(EventType.TRACE_CREATED) or (
            cost > 0 and self._hub.wants(EventType.COST_THRESHOLD)
        )

    def _publish(self, data: dict[str, Any], cost: float) -> None:
        self._hub.publish(EventType.TRACE_CREATED, data)
        if cost > 0:
            self._hub.publish(EventType.COST_THRESHOLD, data, cost_usd=cost)


def _span_event(span: ReadableSpan, count: int, cost: float) -> dict[str, Any]:
    context = span.context
    assert context is not None
    start, end = span.start_time or 0, span.end_time or 0
    return _event_data(
        format(context.trace_id, "032x"),
        span.name,
        span.resource.attributes.get(attr.SERVICE_NAME),
        (count, cost),
        (end - start) / 1e6,
        end,
    )


def _row_event(row: SpanRow, count: int, cost: float) -> dict[str, Any]:
    end = row.end_time or row.start_time
    return _event_data(
        row.trace_id,
        row.name,
        row.service,
        (count, cost),
        row.duration_ms or 0.0,
        int(end.timestamp() * 1e6) * 1000,
    )


def _event_data(
    trace_id: str,
    root_name: str,
    service: Any,
    spans_and_cost: tuple[int, float],
    duration_ms: float,
    end_ns: int,
) -> dict[str, Any]:
    """A ``trace_created`` (or ``cost_threshold``) event's data."""
    count, cost = spans_and_cost
    return {
        "trace_id": trace_id,
        "root_name": root_name,
        "service": service,
        "spans": count,
        "cost_usd": round(cost, 10),
        "duration_ms": duration_ms,
        "ended_at": datetime.fromtimestamp(end_ns / 1e9, UTC).isoformat(),
        "published_after_ms": max(0.0, (time.time_ns() - end_ns) / 1e6),
    }
