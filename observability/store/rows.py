"""Turn a finished OpenTelemetry span into one ``spans`` row (a ``SpanRow``); pure functions.

This runs once per stored span on the writer thread, so it is written for speed: a row is a
tuple in the table's column order (COPY takes it as it is; it is made with ``tuple.__new__``,
skipping the keyword handling of ``SpanRow(...)``), each attribute mapping is read once into a
plain dict, promoted attribute values are checked in one pass per column type and converted
only when one is not of that type, and JSON is encoded with orjson (falling back to ``json``
for what orjson refuses, such as integers beyond 64 bits).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

import orjson
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from observability import attributes as attr

_STATUS = {StatusCode.OK: "ok", StatusCode.ERROR: "error", StatusCode.UNSET: "unset"}
_KIND = {kind: kind.name.lower() for kind in SpanKind}
_from_timestamp = datetime.fromtimestamp


class SpanRow(NamedTuple):
    """One row of the ``spans`` table, its fields in the table's column order."""

    trace_id: str
    span_id: str
    start_time: datetime
    parent_span_id: str | None = None
    name: str = ""
    kind: str | None = None
    service: str | None = None
    end_time: datetime | None = None
    duration_ms: float | None = None
    status: str = "unset"
    status_message: str | None = None
    operation: str | None = None
    provider: str | None = None
    request_model: str | None = None
    response_model: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    cost_usd: float | None = None
    cost_status: str | None = None
    ttfc_ms: float | None = None
    error_type: str | None = None
    conversation_id: str | None = None
    user_id: str | None = None
    experiment: str | None = None
    variant: str | None = None
    scenario: str | None = None
    attempt: int | None = None
    fallback_reason: str | None = None
    cache_hit: bool | None = None
    simulated: bool | None = None
    attributes: str = "{}"
    events: str | None = None
    environment: str | None = None


def span_to_row(span: ReadableSpan) -> SpanRow:
    """The ``spans`` row for ``span``: promoted GenAI/observatory columns plus all attributes."""
    context = span.context
    start_ns = span.start_time
    if context is None or start_ns is None:
        raise ValueError(f"span {span.name!r} has no context or start time")
    parent = span.parent
    status = span.status
    events = span.events
    return compose_row(
        context.trace_id.to_bytes(16, "big").hex(),
        context.span_id.to_bytes(8, "big").hex(),
        parent.span_id.to_bytes(8, "big").hex() if parent else None,
        span.name,
        _KIND[span.kind],
        span.resource.attributes,
        start_ns,
        span.end_time,
        _STATUS[status.status_code],
        status.description,
        _plain(span.attributes),
        events_json(events) if events else None,
    )


def compose_row(
    trace_id: str,
    span_id: str,
    parent_span_id: str | None,
    name: str,
    kind: str,
    resource: Mapping[str, Any],
    start_ns: int,
    end_ns: int | None,
    status: str,
    status_message: str | None,
    attributes: dict[str, Any],
    events: str | None,
) -> SpanRow:
    """The ``spans`` row of a span given by its parts (hex ids, ``kind`` and ``status`` as
    stored, the resource's attributes, the span's own ``attributes`` as a dict this takes over,
    its events already as JSON text): the promoted columns read from the attributes, a span
    with token usage and no cost attributes priced at its day's prices. ``span_to_row`` and
    the OTLP receiver both build rows here, so a span is stored alike whichever way it came."""
    get = attributes.get
    texts = _typed(
        (
            get(attr.OPERATION_NAME),
            get(attr.PROVIDER_NAME),
            get(attr.REQUEST_MODEL),
            get(attr.RESPONSE_MODEL),
            get(attr.ERROR_TYPE),
            get(attr.CONVERSATION_ID),
            get(attr.USER_ID),
            get(attr.EXPERIMENT_NAME),
            get(attr.EXPERIMENT_VARIANT),
            get(attr.SCENARIO),
            get(attr.FALLBACK_REASON),
        ),
        str,
        _text,
    )
    operation, provider, request_model, response_model = texts[:4]
    error_type, conversation, user, experiment, variant, scenario, fallback = texts[4:]
    input_tokens, output_tokens, cache_read, cache_write, attempt = _typed(
        (
            get(attr.USAGE_INPUT_TOKENS),
            get(attr.USAGE_OUTPUT_TOKENS),
            get(attr.USAGE_CACHE_READ_INPUT_TOKENS),
            get(attr.USAGE_CACHE_CREATION_INPUT_TOKENS) or get(attr.USAGE_CACHE_WRITE_INPUT_TOKENS),
            get(attr.ATTEMPT),
        ),
        int,
        _int,
    )
    ttfc = get(attr.RESPONSE_TIME_TO_FIRST_CHUNK)
    cache_hit = get(attr.CACHE_HIT)
    simulated = get(attr.SIMULATED)
    cost_status = get(attr.COST_STATUS)
    if cost_status is None:
        cost_usd, cost_status = _price(attributes, start_ns)
    else:
        cost = get(attr.COST_USD)
        cost_usd = cost if type(cost) is float else _money(cost)
        if type(cost_status) is not str:
            cost_status = str(cost_status)
    return tuple.__new__(
        SpanRow,
        (
            trace_id,
            span_id,
            _time(start_ns),
            parent_span_id,
            name,
            kind,
            resource.get(attr.SERVICE_NAME),
            _time(end_ns) if end_ns is not None else None,
            (end_ns - start_ns) / 1e6 if end_ns else None,
            status,
            status_message,
            operation,
            provider,
            request_model,
            response_model,
            input_tokens,
            output_tokens,
            cache_read,
            cache_write,
            cost_usd,
            cost_status,
            None if ttfc is None else ttfc * 1000.0 if type(ttfc) is float else _seconds_ms(ttfc),
            error_type,
            conversation,
            user,
            experiment,
            variant,
            scenario,
            attempt,
            fallback,
            None if cache_hit is None else bool(cache_hit),
            None if simulated is None else bool(simulated),
            _json(attributes),
            events,
            _text(get(attr.DEPLOYMENT_ENVIRONMENT) or resource.get(attr.DEPLOYMENT_ENVIRONMENT)),
        ),
    )


def _plain(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    """A plain dict of ``attributes``. A finished SDK span's attributes are a read-only proxy
    of ``BoundedAttributes``, whose ``copy()`` hands over its dict in one step (iterating it
    takes its lock and a Python call per key)."""
    if not attributes:
        return {}
    copy = getattr(attributes, "copy", None)
    plain = copy() if copy is not None else None
    return plain if type(plain) is dict else dict(attributes)


def _typed(
    values: tuple[Any, ...], column_type: type, convert: Callable[[Any], Any]
) -> tuple[Any, ...]:
    """``values`` as columns of ``column_type`` or NULL: as they are when they already are
    (the usual case, checked in one pass), else each through ``convert``."""
    for value in values:
        if value is not None and type(value) is not column_type:
            return tuple(map(convert, values))
    return values


def _time(nanoseconds: int) -> datetime:
    return _from_timestamp(nanoseconds // 1000 / 1e6, UTC)


def _text(value: Any) -> str | None:
    return value if value is None or type(value) is str else str(value)


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


def _money(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _seconds_ms(value: Any) -> float | None:
    return float(value) * 1000.0 if isinstance(value, int | float) else None


def _price(attributes: dict[str, Any], start_ns: int) -> tuple[float | None, str | None]:
    """The price calculator's cost and status for a span that has no cost attributes, at the
    prices of the span's day; the source of the price joins the span's attributes."""
    if (
        attributes.get(attr.USAGE_INPUT_TOKENS) is None
        and attributes.get(attr.USAGE_OUTPUT_TOKENS) is None
    ):
        return None, None
    from observability.pricing import price_span_attributes

    price = price_span_attributes(attributes, at=_time(start_ns))
    attributes[attr.COST_SOURCE] = price.source.value
    return (float(price.cost_usd) if price.cost_usd is not None else None), str(price.status)


def events_json(events: Sequence[Event]) -> str:
    """Span events as the ``events`` column's JSON text: name, ISO time and attributes."""
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
