"""Turn a finished OpenTelemetry span into one ``spans`` row (a plain dict); pure functions.

This runs once per stored span on the writer thread, so it reads each attribute mapping once
into a plain dict and encodes JSON with orjson (falling back to ``json`` for what orjson
refuses, such as integers beyond 64 bits).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from observability import attributes as attr

_STATUS = {StatusCode.OK: "ok", StatusCode.ERROR: "error", StatusCode.UNSET: "unset"}
_KIND = {kind: kind.name.lower() for kind in SpanKind}


def span_to_row(span: ReadableSpan) -> dict[str, Any]:
    """The ``spans`` row for ``span``: promoted GenAI/observatory columns plus all attributes."""
    context = span.context
    start_ns = span.start_time
    if context is None or start_ns is None:
        raise ValueError(f"span {span.name!r} has no context or start time")
    attributes = _plain(span.attributes)
    get = attributes.get
    end_ns = span.end_time
    parent = span.parent
    status = span.status
    ttfc = get(attr.RESPONSE_TIME_TO_FIRST_CHUNK)
    cost_usd, cost_status = _cost(attributes)
    return {
        "trace_id": f"{context.trace_id:032x}",
        "span_id": f"{context.span_id:016x}",
        "start_time": _time(start_ns),
        "parent_span_id": f"{parent.span_id:016x}" if parent else None,
        "name": span.name,
        "kind": _KIND[span.kind],
        "service": span.resource.attributes.get(attr.SERVICE_NAME),
        "end_time": _time(end_ns) if end_ns is not None else None,
        "duration_ms": (end_ns - start_ns) / 1e6 if end_ns else None,
        "status": _STATUS[status.status_code],
        "status_message": status.description,
        "operation": _text(get(attr.OPERATION_NAME)),
        "provider": _text(get(attr.PROVIDER_NAME)),
        "request_model": _text(get(attr.REQUEST_MODEL)),
        "response_model": _text(get(attr.RESPONSE_MODEL)),
        "error_type": _text(get(attr.ERROR_TYPE)),
        "conversation_id": _text(get(attr.CONVERSATION_ID)),
        "user_id": _text(get(attr.USER_ID)),
        "experiment": _text(get(attr.EXPERIMENT_NAME)),
        "variant": _text(get(attr.EXPERIMENT_VARIANT)),
        "scenario": _text(get(attr.SCENARIO)),
        "fallback_reason": _text(get(attr.FALLBACK_REASON)),
        "input_tokens": _int(get(attr.USAGE_INPUT_TOKENS)),
        "output_tokens": _int(get(attr.USAGE_OUTPUT_TOKENS)),
        "cache_read_tokens": _int(get(attr.USAGE_CACHE_READ_INPUT_TOKENS)),
        "attempt": _int(get(attr.ATTEMPT)),
        "cache_hit": _bool(get(attr.CACHE_HIT)),
        "simulated": _bool(get(attr.SIMULATED)),
        "cache_write_tokens": _int(
            get(attr.USAGE_CACHE_CREATION_INPUT_TOKENS) or get(attr.USAGE_CACHE_WRITE_INPUT_TOKENS)
        ),
        "ttfc_ms": float(ttfc) * 1000.0 if isinstance(ttfc, int | float) else None,
        "cost_usd": cost_usd,
        "cost_status": cost_status,
        "attributes": _json(attributes),
        "events": _events(span),
    }


def _plain(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    """A plain dict of ``attributes``. A finished SDK span's attributes are a read-only proxy
    of ``BoundedAttributes``, whose ``copy()`` hands over its dict in one step (iterating it
    takes its lock and a Python call per key)."""
    if not attributes:
        return {}
    copy = getattr(attributes, "copy", None)
    plain = copy() if copy is not None else None
    return plain if type(plain) is dict else dict(attributes)


def _time(nanoseconds: int) -> datetime:
    return datetime.fromtimestamp(nanoseconds / 1e9, UTC)


def _text(value: Any) -> str | None:
    return value if value is None or type(value) is str else str(value)


def _bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _int(value: Any) -> int | None:
    if type(value) is int:
        return value
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _json(value: Any) -> str:
    """Compact JSON text; values JSON cannot hold are written as their ``str``."""
    try:
        return orjson.dumps(value, default=str).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value, default=str, separators=(",", ":"))


def _cost(attributes: Mapping[str, Any]) -> tuple[float | None, str | None]:
    """The span's own cost attributes when present, else the price calculator's answer."""
    status = attributes.get(attr.COST_STATUS)
    if status is not None:
        cost = attributes.get(attr.COST_USD)
        return (float(cost) if isinstance(cost, int | float) else None), str(status)
    if (
        attributes.get(attr.USAGE_INPUT_TOKENS) is None
        and attributes.get(attr.USAGE_OUTPUT_TOKENS) is None
    ):
        return None, None
    from observability.pricing import price_span_attributes

    price = price_span_attributes(attributes)
    return (float(price.cost_usd) if price.cost_usd is not None else None), str(price.status)


def _events(span: ReadableSpan) -> str | None:
    events = span.events
    if not events:
        return None
    return _json(
        [
            {
                "name": event.name,
                "time": _time(event.timestamp).isoformat(),
                "attributes": dict(event.attributes or {}),
            }
            for event in events
        ]
    )
