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
    """An ``ExportTraceServiceRequest`` holding ``spans``, serialised."""
    return ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource=Resource(attributes=[_kv("service.name", service)]),
                scope_spans=[
                    ScopeSpans(
                        spans=[
                            Span(
                                trace_id=s["trace_id"],
                                span_id=s["span_id"],
                                name=s["name"],
                                kind=Span.SPAN_KIND_CLIENT,
                                start_time_unix_nano=s["start"],
                                end_time_unix_nano=s["end"],
                                attributes=[_kv(k, v) for k, v in s["attributes"].items()],
                                status=Status(code=Status.STATUS_CODE_OK),
                            )
                            for s in spans
                        ]
                    )
                ],
            )
        ]
    ).SerializeToString()


def json_request(spans: list[dict[str, Any]], service: str = "billing-service") -> dict[str, Any]:
    """The OTLP/JSON form: hex ids, 64-bit integers as strings, enums as integers."""
    return {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": service}}]
                },
                "scopeSpans": [
                    {
                        "scope": {"name": "test"},
                        "spans": [
                            {
                                "traceId": s["trace_id"].hex(),
                                "spanId": s["span_id"].hex(),
                                "name": s["name"],
                                "kind": 3,
                                "startTimeUnixNano": str(s["start"]),
                                "endTimeUnixNano": str(s["end"]),
                                "attributes": [_json_kv(k, v) for k, v in s["attributes"].items()],
                                "status": {"code": 1},
                            }
                            for s in spans
                        ],
                    }
                ],
            }
        ]
    }


def _kv(key: str, value: object) -> KeyValue:
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=str(value)))


def _json_kv(key: str, value: object) -> dict[str, Any]:
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": str(value)}}
