"""OTLP trace requests as real senders make them: GenAI chat spans in protobuf and in JSON."""

from __future__ import annotations

import secrets
import time
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

CHAT = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.response.model": "gpt-4o-mini",
    "gen_ai.usage.input_tokens": 1200,
    "gen_ai.usage.output_tokens": 300,
}


def chat_spans(count: int, *, trace_id: bytes | None = None) -> list[dict[str, Any]]:
    """``count`` chat spans (each its own trace unless ``trace_id`` is given), 1 s long."""
    now = time.time_ns()
    return [
        {
            "trace_id": trace_id or secrets.token_bytes(16),
            "span_id": secrets.token_bytes(8),
            "name": "chat gpt-4o-mini",
            "start": now - 1_000_000_000,
            "end": now,
            "attributes": dict(CHAT),
        }
        for _ in range(count)
    ]


def protobuf_request(spans: list[dict[str, Any]], service: str = "billing-service") -> bytes:
    """An ``ExportTraceServiceRequest`` holding ``spans``, serialised. Besides the keys of
    ``chat_spans``, a span may give ``parent_id`` (bytes), ``kind`` and ``status`` (OTLP enum
    numbers; client and ok by default), ``status_message`` and ``events`` (``(name,
    time_unix_nano, attributes)``)."""
    return ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource=Resource(attributes=[_kv("service.name", service)]),
                scope_spans=[ScopeSpans(spans=[_pb_span(s) for s in spans])],
            )
        ]
    ).SerializeToString()


def _pb_span(s: dict[str, Any]) -> Span:
    return Span(
        trace_id=s["trace_id"],
        span_id=s["span_id"],
        parent_span_id=s.get("parent_id", b""),
        name=s["name"],
        kind=s.get("kind", Span.SPAN_KIND_CLIENT),
        start_time_unix_nano=s["start"],
        end_time_unix_nano=s["end"],
        attributes=[_kv(k, v) for k, v in s["attributes"].items()],
        events=[
            Span.Event(name=name, time_unix_nano=at, attributes=[_kv(k, v) for k, v in a.items()])
            for name, at, a in s.get("events", ())
        ],
        status=Status(
            code=s.get("status", Status.STATUS_CODE_OK), message=s.get("status_message", "")
        ),
    )


def json_request(spans: list[dict[str, Any]], service: str = "billing-service") -> dict[str, Any]:
    """The OTLP/JSON form: hex ids, 64-bit integers as strings, enums as integers."""
    return {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": service}}]
                },
                "scopeSpans": [
                    {"scope": {"name": "test"}, "spans": [_json_span(s) for s in spans]}
                ],
            }
        ]
    }


def _json_span(s: dict[str, Any]) -> dict[str, Any]:
    span = {
        "traceId": s["trace_id"].hex(),
        "spanId": s["span_id"].hex(),
        "name": s["name"],
        "kind": s.get("kind", 3),
        "startTimeUnixNano": str(s["start"]),
        "endTimeUnixNano": str(s["end"]),
        "attributes": [_json_kv(k, v) for k, v in s["attributes"].items()],
        "status": {"code": s.get("status", 1), "message": s.get("status_message", "")},
    }
    if s.get("parent_id"):
        span["parentSpanId"] = s["parent_id"].hex()
    if s.get("events"):
        span["events"] = [
            {
                "name": name,
                "timeUnixNano": str(at),
                "attributes": [_json_kv(k, v) for k, v in a.items()],
            }
            for name, at, a in s["events"]
        ]
    return span


def _kv(key: str, value: object) -> KeyValue:
    if isinstance(value, bool):
        return KeyValue(key=key, value=AnyValue(bool_value=value))
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    if isinstance(value, float):
        return KeyValue(key=key, value=AnyValue(double_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=str(value)))


def _json_kv(key: str, value: object) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    return {"key": key, "value": {"stringValue": str(value)}}
