"""Decode an OTLP ``ExportTraceServiceRequest`` (protobuf, or JSON with hex ids) into rows of
the trace store's ``spans`` table.

Each span goes straight from the request to its row in one pass (``compose_row``, which the
store processor uses for this process's own spans too: promoted GenAI columns, pricing), so no
SDK span is built only to be taken apart again on the writer thread. Spans that cannot be
stored (ids of the wrong length or all zeros, no start time, a time out of range) are left out
and counted, for the answer's ``partial_success``; a body that is not a request at all raises
``OtlpDecodeError``. Pure functions, run off the event loop by the receiver.

Python's cycle collector is held off while a request is decoded: a JSON body becomes tens of
thousands of dicts and lists at once, which would set off collections that walk the whole
heap and promote the short-lived tree into the oldest generation (in a process holding many
objects that took more CPU than the decoding itself). The tree has no cycles; it is freed by
reference counting as soon as its spans are rows.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
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
from opentelemetry.sdk.trace import Event

from observability.store.rows import SpanRow, compose_row, events_json

_KINDS = {0: "internal", 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}
"""OTLP ``SpanKind`` → the ``kind`` column (unspecified is internal, as in the SDK)."""
_KIND_NAMES = dict(trace_pb2.Span.SpanKind.items())
_STATUS = {0: "unset", 1: "ok", 2: "error"}
_STATUS_NAMES = dict(trace_pb2.Status.StatusCode.items())
"""Enum names (``SPAN_KIND_CLIENT``, ``STATUS_CODE_ERROR``) → numbers, for JSON from proto3
JSON encoders, which name enums where OTLP/JSON numbers them."""
_SCALARS = frozenset(("string_value", "bool_value", "int_value", "double_value"))
_JSON_SCALARS: dict[str | None, Callable[[Any], Any]] = {
    "stringValue": str,
    "boolValue": bool,
    "intValue": int,
    "doubleValue": float,
    "bytesValue": str,
}
_UNSTORABLE = (ValueError, OverflowError, OSError, TypeError)
"""What turning a span's values into a row raises for values it cannot hold (a time out of
range): that span is left out."""
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
    """The rows of one request's spans, and how many spans were left out and why."""

    rows: list[SpanRow] = field(default_factory=list)
    rejected: int = 0
    problems: list[str] = field(default_factory=list)

    def reject(self, problem: str) -> None:
        """Leave one span out for ``problem``."""
        self.rejected += 1
        if len(self.problems) < MAX_PROBLEMS and problem not in self.problems:
            self.problems.append(problem)

    def add(
        self,
        ids: tuple[bytes, bytes, bytes],
        name: str,
        kind: str,
        resource: Mapping[str, Any],
        times: tuple[int, int],
        status: tuple[str, str | None],
        attributes: dict[str, Any],
        events: list[Event],
    ) -> None:
        """Add the row of one span, or leave the span out when its ids or times cannot be
        stored. ``ids`` are trace, span and parent id (empty for a root), ``times`` start and
        end in Unix nanoseconds (0 for none)."""
        trace_id, span_id, parent_id = ids
        problem = _ids_problem(trace_id, span_id)
        start, end = times
        if problem is None and not start:
            problem = "a span has no start time"
        if problem is None and parent_id and (len(parent_id) != 8 or not any(parent_id)):
            problem = "a span's parent span id is not 8 bytes"
        if problem is not None:
            self.reject(problem)
            return
        code, message = status
        try:
            row = compose_row(
                trace_id.hex(),
                span_id.hex(),
                parent_id.hex() if parent_id else None,
                name,
                kind,
                resource,
                start,
                end or start,
                code,
                (message or None) if code == "error" else None,
                attributes,
                events_json(events) if events else None,
            )
        except _UNSTORABLE:
            self.reject("a span has a time or value the store cannot hold")
            return
        self.rows.append(row)


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
    with _collector_paused():
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
    add = batch.add
    for resource_spans in request.resource_spans:
        resource = _resource(_pb_attributes(resource_spans.resource.attributes))
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                status = span.status
                add(
                    (span.trace_id, span.span_id, span.parent_span_id),
                    span.name,
                    _KINDS.get(span.kind, "internal"),
                    resource,
                    (span.start_time_unix_nano, span.end_time_unix_nano),
                    (_STATUS.get(status.code, "unset"), status.message),
                    _pb_attributes(span.attributes),
                    [
                        Event(e.name, _pb_attributes(e.attributes), e.time_unix_nano or None)
                        for e in span.events
                    ],
                )
    return batch


def _pb_attributes(pairs: Iterable[common_pb2.KeyValue]) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    for pair in pairs:
        value = pair.value
        kind = value.WhichOneof("value")
        attributes[pair.key] = getattr(value, kind) if kind in _SCALARS else _pb_value(value)
    return attributes


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
            resource = _resource(_json_attributes(_dict(resource_spans, "resource")))
            for scope_spans in _list(resource_spans, "scopeSpans"):
                _dict(scope_spans, "scope")  # not stored, but must be an object if given
                for span in _list(scope_spans, "spans"):
                    _add_json_span(batch, span, resource)
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        raise OtlpDecodeError(f"The body is not an OTLP JSON trace request ({exc}).") from None
    return batch


def _add_json_span(batch: DecodedBatch, span: Any, resource: Mapping[str, Any]) -> None:
    if not isinstance(span, dict):
        raise TypeError("a span is not an object")
    status = _dict(span, "status")
    batch.add(
        (_hex(span.get("traceId")), _hex(span.get("spanId")), _hex(span.get("parentSpanId"))),
        str(span.get("name", "")),
        _KINDS.get(_enum(span.get("kind", 0), _KIND_NAMES), "internal"),
        resource,
        (_int(span.get("startTimeUnixNano")), _int(span.get("endTimeUnixNano"))),
        (
            _STATUS.get(_enum(status.get("code", 0), _STATUS_NAMES), "unset"),
            str(status.get("message", "")),
        ),
        _json_attributes(span),
        [
            Event(str(e.get("name", "")), _json_attributes(e), _int(e.get("timeUnixNano")) or None)
            for e in _list(span, "events")
        ],
    )


def _json_attributes(holder: Mapping[str, Any]) -> dict[str, Any]:
    """The ``attributes`` of ``holder``; scalars (nearly all of them) converted in line."""
    attributes: dict[str, Any] = {}
    for pair in _list(holder, "attributes"):
        key, value = str(pair["key"]), pair.get("value")
        kind = next(iter(value), None) if type(value) is dict else None
        convert = _JSON_SCALARS.get(kind)
        attributes[key] = _json_value(value) if convert is None else convert(value[kind])
    return attributes


def _json_value(value: Any) -> Any:
    if not isinstance(value, dict) or not value:
        return None
    kind, inner = next(iter(value.items()))
    convert = _JSON_SCALARS.get(kind)
    if convert is not None:
        return convert(inner)
    match kind:
        case "arrayValue":
            return [_json_value(v) for v in _list(inner, "values")]
        case "kvlistValue":
            return _json_attributes({"attributes": _list(inner, "values")})
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


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection in the block (see the module's docstring); when it was
    already off, it stays off."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _resource(attributes: dict[str, Any]) -> dict[str, Any]:
    """A resource's attributes as the SDK keeps them (values it cannot hold are dropped), as a
    plain dict (read twice per span)."""
    return dict(Resource(attributes).attributes)


def _ids_problem(trace_id: bytes, span_id: bytes) -> str | None:
    """Why a span's ids cannot be stored, or ``None``."""
    if len(trace_id) != 16 or not any(trace_id):
        return "a span's trace id is not 16 bytes, or is all zeros"
    if len(span_id) != 8 or not any(span_id):
        return "a span's span id is not 8 bytes, or is all zeros"
    return None
