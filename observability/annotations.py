"""Annotations on a trace that has already ended: a customer's thumbs, an agent's verdict.

Spans cannot change once exported, so an annotation is a span of its own in the annotated trace,
named ``annotation {name}``, placed at the moment the annotated answer was given so it does not
stretch the trace's duration, and carrying when it was really made. Peers call these scores
(Langfuse) or span annotations (Phoenix).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import UTC, datetime

from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags
from opentelemetry.util.types import AttributeValue

from observability.instrumentation._common import safely

TRACER_NAME = "observability.annotations"


def annotate_trace(
    trace_id: str,
    name: str,
    value: float,
    *,
    at: datetime,
    made_at: datetime | None = None,
    attributes: Mapping[str, AttributeValue] | None = None,
) -> None:
    """Add ``annotation {name}`` with ``observatory.annotation.value`` to trace ``trace_id``.

    ``at`` is when the annotated thing happened (e.g. the answer's time); ``made_at`` (default
    now) is when the annotation was made. Never raises: telemetry must not break the caller.
    """
    safely(_emit, trace_id, name, value, at, made_at or datetime.now(UTC), attributes or {})


def _emit(
    trace_id: str,
    name: str,
    value: float,
    at: datetime,
    made_at: datetime,
    attributes: Mapping[str, AttributeValue],
) -> None:
    parent = SpanContext(
        trace_id=int(trace_id, 16),
        span_id=random.getrandbits(64) or 1,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )
    moment = int(_utc(at).timestamp() * 1e9)
    span = trace.get_tracer(TRACER_NAME).start_span(
        f"annotation {name}",
        context=trace.set_span_in_context(NonRecordingSpan(parent)),
        start_time=moment,
        attributes={
            "observatory.annotation.name": name,
            "observatory.annotation.value": value,
            "observatory.annotation.made_at": _utc(made_at).isoformat(),
            **attributes,
        },
    )
    span.end(end_time=moment)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
