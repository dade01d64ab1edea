"""Decode an OTLP ``ExportTraceServiceRequest`` (protobuf, or JSON with hex ids) into SDK spans.

Spans that cannot be stored (ids of the wrong length or all zeros, no start time) are left out
and counted, for the answer's ``partial_success``; a body that is not a request at all raises
``OtlpDecodeError``. Pure functions, run off the event loop by the receiver.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import orjson
from google.protobuf.message import DecodeError
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.trace.v1 import trace_pb2
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

_KINDS = {
    0: SpanKind.INTERNAL,
    1: SpanKind.INTERNAL,
    2: SpanKind.SERVER,
    3: SpanKind.CLIENT,
    4: SpanKind.PRODUCER,
    5: SpanKind.CONSUMER,
}
_KIND_NAMES = {name: value for value, name in trace_pb2.Span.SpanKind.items()}
_STATUS = {0: StatusCode.UNSET, 1: StatusCode.OK, 2: StatusCode.ERROR}
_STATUS_NAMES = {name: value for value, name in trace_pb2.Status.StatusCode.items()}
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
MAX_PROBLEMS = 5
"""How many reasons for rejected spans the answer's ``error_message`` names."""


class Encoding(StrEnum):
    """The two OTLP/HTTP encodings."""

    PROTOBUF = "application/x-protobuf"
    JSON = "application/json"


class OtlpDecodeError(ValueError):
    """The body is not an OTLP trace request in its content type; the message says why."""


@dataclass
class DecodedBatch:
    """The spans of one request, and how many were left out and why."""

    spans: list[ReadableSpan] = field(default_factory=list)
    rejected: int = 0
    problems: list[str] = field(default_factory=list)

    def reject(self, problem: str) -> None:
        """Leave one span out for ``problem``."""
        self.rejected += 1
        if len(self.problems) < MAX_PROBLEMS and problem not in self.problems:
            self.problems.append(problem)


def encoding_of(content_type: str | None) -> Encoding | None:
    """The encoding a ``Content-Type`` names (parameters ignored), or ``None``."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media in ("application/x-protobuf", "application/protobuf"):
        return Encoding.PROTOBUF
    if media == "application/json":
        return Encoding.JSON
    return None


def decode_request(body: bytes, encoding: Encoding) -> DecodedBatch:
    """The spans of an ``ExportTraceServiceRequest`` body."""
    if encoding is Encoding.PROTOBUF:
        return _from_protobuf(body)
    return _from_json(body)


def encode_response(batch: DecodedBatch, encoding: Encoding) -> bytes:
    """The ``ExportTraceServiceResponse``: empty, or with ``partial_success`` when spans were
    left out."""
    message = "; ".join(batch.problems)
    if encoding is Encoding.JSON:
        if not batch.rejected:
            return b"{}"
        partial = {"rejectedSpans": str(batch.rejected), "errorMessage": message}
        return orjson.dumps({"partialSuccess": partial})
    answer = trace_service_pb2.ExportTraceServiceResponse()
    if batch.rejected:
        answer.partial_success.rejected_spans = batch.rejected
        answer.partial_success.error_message = message
    return answer.SerializeToString()


def encode_status(code: int, message: str) -> bytes:
    """A ``google.rpc.Status`` (what OTLP/HTTP answers a protobuf request's failure with)."""
    return status_pb2.Status(code=code, message=message).SerializeToString()


# Protobuf.


def _from_protobuf(body: bytes) -> DecodedBatch:
    try:
        request = trace_service_pb2.ExportTraceServiceRequest.FromString(body)
    except DecodeError as exc:
        raise OtlpDecodeError(f"The body is not an OTLP protobuf trace request ({exc}).") from None
    batch = DecodedBatch()
    for resource_spans in request.resource_spans:
        resource = Resource(_pb_attributes(resource_spans.resource.attributes))
        for scope_spans in resource_spans.scope_spans:
            scope = InstrumentationScope(scope_spans.scope.name, scope_spans.scope.version or None)
            for span in scope_spans.spans:
                _add_pb_span(batch, span, resource, scope)
    return batch


def _add_pb_span(
    batch: DecodedBatch, span: trace_pb2.Span, resource: Resource, scope: InstrumentationScope
) -> None:
    context = _context(span.trace_id, span.span_id)
    if isinstance(context, str):
        batch.reject(context)
        return
    if not span.start_time_unix_nano:
        batch.reject("a span has no start time")
        return
    parent = _parent(span.trace_id, span.parent_span_id)
    if isinstance(parent, str):
        batch.reject(parent)
        return
    status_code = _STATUS.get(span.status.code, StatusCode.UNSET)
    batch.spans.append(
        ReadableSpan(
            name=span.name,
            context=context,
            parent=parent,
            resource=resource,
            attributes=_pb_attributes(span.attributes),
            events=[
                Event(e.name, _pb_attributes(e.attributes), e.time_unix_nano or None)
                for e in span.events
            ],
            kind=_KINDS.get(span.kind, SpanKind.INTERNAL),
            status=_status(status_code, span.status.message),
            start_time=span.start_time_unix_nano,
            end_time=span.end_time_unix_nano or span.start_time_unix_nano,
            instrumentation_scope=scope,
        )
    )


def _pb_attributes(pairs: Iterable[common_pb2.KeyValue]) -> dict[str, Any]:
    return {pair.key: _pb_value(pair.value) for pair in pairs}


def _pb_value(value: common_pb2.AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [_pb_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return _pb_attributes(value.kvlist_value.values)
    if kind == "bytes_value":
        return value.bytes_value.hex()
    return getattr(value, kind)


# JSON (OTLP/JSON: lowerCamelCase names, hex ids, 64-bit integers possibly as strings).


def _from_json(body: bytes) -> DecodedBatch:
    try:
        request = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise OtlpDecodeError(f"The body is not JSON ({exc}).") from None
    if not isinstance(request, dict):
        raise OtlpDecodeError("The body is not an OTLP JSON trace request (not an object).")
    batch = DecodedBatch()
    try:
        for resource_spans in _list(request, "resourceSpans"):
            resource = Resource(_json_attributes(_dict(resource_spans, "resource")))
            for scope_spans in _list(resource_spans, "scopeSpans"):
                raw_scope = _dict(scope_spans, "scope")
                scope = InstrumentationScope(
                    str(raw_scope.get("name", "")), raw_scope.get("version") or None
                )
                for span in _list(scope_spans, "spans"):
                    _add_json_span(batch, span, resource, scope)
    except (TypeError, ValueError, AttributeError) as exc:
        raise OtlpDecodeError(f"The body is not an OTLP JSON trace request ({exc}).") from None
    return batch


def _add_json_span(
    batch: DecodedBatch, span: Mapping[str, Any], resource: Resource, scope: InstrumentationScope
) -> None:
    if not isinstance(span, dict):
        raise TypeError("a span is not an object")
    trace_id = _hex(span.get("traceId"))
    context = _context(trace_id, _hex(span.get("spanId")))
    if isinstance(context, str):
        batch.reject(context)
        return
    start = _int(span.get("startTimeUnixNano"))
    if not start:
        batch.reject("a span has no start time")
        return
    parent = _parent(trace_id, _hex(span.get("parentSpanId")))
    if isinstance(parent, str):
        batch.reject(parent)
        return
    status = _dict(span, "status")
    kind = _enum(span.get("kind", 0), _KIND_NAMES)
    batch.spans.append(
        ReadableSpan(
            name=str(span.get("name", "")),
            context=context,
            parent=parent,
            resource=resource,
            attributes=_json_attributes(span),
            events=[
                Event(
                    str(e.get("name", "")), _json_attributes(e), _int(e.get("timeUnixNano")) or None
                )
                for e in _list(span, "events")
            ],
            kind=_KINDS.get(kind, SpanKind.INTERNAL),
            status=_status(
                _STATUS.get(_enum(status.get("code", 0), _STATUS_NAMES), StatusCode.UNSET),
                str(status.get("message", "")),
            ),
            start_time=start,
            end_time=_int(span.get("endTimeUnixNano")) or start,
            instrumentation_scope=scope,
        )
    )


def _json_attributes(holder: Mapping[str, Any]) -> dict[str, Any]:
    return {
        str(pair["key"]): _json_value(pair.get("value")) for pair in _list(holder, "attributes")
    }


def _json_value(value: Any) -> Any:
    if not isinstance(value, dict) or not value:
        return None
    kind, inner = next(iter(value.items()))
    match kind:
        case "stringValue":
            return str(inner)
        case "boolValue":
            return bool(inner)
        case "intValue":
            return int(inner)
        case "doubleValue":
            return float(inner)
        case "arrayValue":
            return [_json_value(v) for v in _list(inner, "values")]
        case "kvlistValue":
            return _json_attributes({"attributes": _list(inner, "values")})
        case "bytesValue":
            return str(inner)
        case _:
            return None


def _list(holder: Any, key: str) -> list[Any]:
    value = holder.get(key) if isinstance(holder, dict) else None
    if value is None:
        return []
    if not isinstance(value, list):
        raise TypeError(f"{key} is not a list")
    return value


def _dict(holder: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = holder.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError(f"{key} is not an object")
    return value


def _hex(value: Any) -> bytes:
    if not value:
        return b""
    try:
        return bytes.fromhex(str(value))
    except ValueError:
        return b"?"  # not hex: rejected as an id of the wrong length


def _int(value: Any) -> int:
    if value is None or value == "":
        return 0
    return int(value)


def _enum(value: Any, names: Mapping[str, int]) -> int:
    return names.get(value, 0) if isinstance(value, str) else int(value)


# Shared.


def _context(trace_id: bytes, span_id: bytes, *, remote: bool = False) -> SpanContext | str:
    """The span context of two ids, or why they cannot be stored."""
    if len(trace_id) != 16 or not any(trace_id):
        return "a span's trace id is not 16 bytes, or is all zeros"
    if len(span_id) != 8 or not any(span_id):
        return "a span's span id is not 8 bytes, or is all zeros"
    return SpanContext(
        int.from_bytes(trace_id, "big"),
        int.from_bytes(span_id, "big"),
        is_remote=remote,
        trace_flags=_SAMPLED,
    )


def _parent(trace_id: bytes, parent_id: bytes) -> SpanContext | str | None:
    """The parent's context, ``None`` for a root span, or why it cannot be stored."""
    if not parent_id:
        return None
    parent = _context(trace_id, parent_id, remote=True)
    return "a span's parent span id is not 8 bytes" if isinstance(parent, str) else parent


def _status(code: StatusCode, message: str) -> Status:
    return Status(code, message or None) if code is StatusCode.ERROR else Status(code)
