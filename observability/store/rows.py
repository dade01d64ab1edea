"""Turn a finished OpenTelemetry span into one ``spans`` row (a plain dict); pure functions."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from observability import attributes as attr

_STATUS = {StatusCode.OK: "ok", StatusCode.ERROR: "error", StatusCode.UNSET: "unset"}
_TEXT_FIELDS = {
    "operation": attr.OPERATION_NAME,
    "provider": attr.PROVIDER_NAME,
    "request_model": attr.REQUEST_MODEL,
    "response_model": attr.RESPONSE_MODEL,
    "error_type": attr.ERROR_TYPE,
    "conversation_id": attr.CONVERSATION_ID,
    "user_id": attr.USER_ID,
    "experiment": attr.EXPERIMENT_NAME,
    "variant": attr.EXPERIMENT_VARIANT,
    "scenario": attr.SCENARIO,
    "fallback_reason": attr.FALLBACK_REASON,
}
_INT_FIELDS = {
    "input_tokens": attr.USAGE_INPUT_TOKENS,
    "output_tokens": attr.USAGE_OUTPUT_TOKENS,
    "cache_read_tokens": attr.USAGE_CACHE_READ_INPUT_TOKENS,
    "attempt": attr.ATTEMPT,
}
_BOOL_FIELDS = {"cache_hit": attr.CACHE_HIT, "simulated": attr.SIMULATED}


def span_to_row(span: ReadableSpan) -> dict[str, Any]:
    """The ``spans`` row for ``span``: promoted GenAI/observatory columns plus all attributes."""
    context = span.context
    if context is None or span.start_time is None:
        raise ValueError(f"span {span.name!r} has no context or start time")
    attributes: Mapping[str, Any] = span.attributes or {}
    start = _time(span.start_time)
    end = _time(span.end_time) if span.end_time is not None else None
    row: dict[str, Any] = {
        "trace_id": format(context.trace_id, "032x"),
        "span_id": format(context.span_id, "016x"),
        "start_time": start,
        "parent_span_id": format(span.parent.span_id, "016x") if span.parent else None,
        "name": span.name,
        "kind": span.kind.name.lower(),
        "service": span.resource.attributes.get(attr.SERVICE_NAME),
        "end_time": end,
        "duration_ms": (span.end_time - span.start_time) / 1e6 if span.end_time else None,
        "status": _STATUS[span.status.status_code],
        "status_message": span.status.description,
    }
    for column, key in _TEXT_FIELDS.items():
        value = attributes.get(key)
        row[column] = str(value) if value is not None else None
    for column, key in _INT_FIELDS.items():
        row[column] = _int(attributes.get(key))
    for column, key in _BOOL_FIELDS.items():
        value = attributes.get(key)
        row[column] = bool(value) if value is not None else None
    row["cache_write_tokens"] = _int(
        attributes.get(attr.USAGE_CACHE_CREATION_INPUT_TOKENS)
        or attributes.get(attr.USAGE_CACHE_WRITE_INPUT_TOKENS)
    )
    ttfc = attributes.get(attr.RESPONSE_TIME_TO_FIRST_CHUNK)
    row["ttfc_ms"] = float(ttfc) * 1000.0 if isinstance(ttfc, int | float) else None
    row["cost_usd"], row["cost_status"] = _cost(attributes)
    row["attributes"] = json.dumps(dict(attributes), default=str, separators=(",", ":"))
    row["events"] = _events(span)
    return row


def _time(nanoseconds: int) -> datetime:
    return datetime.fromtimestamp(nanoseconds / 1e9, UTC)


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


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
    if not span.events:
        return None
    events = [
        {
            "name": event.name,
            "time": _time(event.timestamp).isoformat(),
            "attributes": dict(event.attributes or {}),
        }
        for event in span.events
    ]
    return json.dumps(events, default=str, separators=(",", ":"))
