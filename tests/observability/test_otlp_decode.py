"""An OTLP span becomes the same ``spans`` row as the SDK span it stands for, in protobuf and in
JSON; spans the store cannot hold are left out and counted."""

from __future__ import annotations

import base64
import gc

import orjson
import pytest
from google.protobuf.json_format import MessageToDict
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

from observability.otlp import Encoding, OtlpDecodeError, decode_request
from observability.store.rows import span_to_row
from tests.api.otlp_payloads import json_request, protobuf_request

START = 1_764_590_400_123_456_789
TRACE = bytes.fromhex("0af7651916cd43dd8448eb211c80319c")
ROOT, CHAT = bytes.fromhex("b7ad6b7169203331"), bytes.fromhex("00f067aa0ba902b7")
CHAT_ATTRIBUTES = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.response.model": "gpt-4o-mini",
    "gen_ai.usage.input_tokens": 1200,
    "gen_ai.usage.output_tokens": 300,
    "gen_ai.response.time_to_first_chunk": 0.25,
    "gen_ai.request.stream": True,
    "observatory.conversation.id": "conv-1",
}


def _payloads() -> list[dict[str, object]]:
    return [
        {"trace_id": TRACE, "span_id": CHAT, "parent_id": ROOT, "name": "chat gpt-4o-mini",
         "kind": 3, "start": START + 1_000, "end": START + 900_000_000,
         "attributes": dict(CHAT_ATTRIBUTES), "status": 2, "status_message": "rate limited",
         "events": [("retry", START + 5_000, {"after_s": 1.5})]},
        {"trace_id": TRACE, "span_id": ROOT, "name": "turn", "kind": 1, "start": START,
         "end": START + 1_000_000_000, "attributes": {"observatory.route": "support"}},
    ]  # fmt: skip


def _sdk_spans() -> list[ReadableSpan]:
    resource = Resource({"service.name": "billing-service"})
    trace_id = int.from_bytes(TRACE, "big")
    root = SpanContext(trace_id, int.from_bytes(ROOT, "big"), False, TraceFlags(1))
    chat = SpanContext(trace_id, int.from_bytes(CHAT, "big"), False, TraceFlags(1))
    return [
        ReadableSpan(name="chat gpt-4o-mini", context=chat, parent=root, resource=resource,
                     attributes=dict(CHAT_ATTRIBUTES), kind=SpanKind.CLIENT,
                     events=[Event("retry", {"after_s": 1.5}, START + 5_000)],
                     status=Status(StatusCode.ERROR, "rate limited"),
                     start_time=START + 1_000, end_time=START + 900_000_000),
        ReadableSpan(name="turn", context=root, resource=resource,
                     attributes={"observatory.route": "support"}, kind=SpanKind.INTERNAL,
                     status=Status(StatusCode.OK), start_time=START,
                     end_time=START + 1_000_000_000),
    ]  # fmt: skip


@pytest.mark.parametrize("encoding", list(Encoding))
def test_an_otlp_span_is_stored_as_its_sdk_span_would_be(encoding: Encoding) -> None:
    payloads = _payloads()
    if encoding is Encoding.PROTOBUF:
        body = protobuf_request(payloads)
    else:
        body = orjson.dumps(json_request(payloads))
    batch = decode_request(body, encoding)
    assert batch.rejected == 0
    assert batch.rows == [span_to_row(span) for span in _sdk_spans()]
    chat, root = batch.rows
    assert chat.cost_status == "priced" and chat.cost_usd == pytest.approx(
        1200 * 0.15e-6 + 300 * 0.6e-6
    )
    assert (chat.parent_span_id, root.parent_span_id) == (ROOT.hex(), None)
    assert chat.status == "error" and chat.status_message == "rate limited"
    assert chat.ttfc_ms == 250.0 and chat.service == "billing-service"


def test_a_span_whose_time_the_store_cannot_hold_is_left_out_and_counted() -> None:
    far, fine = _payloads()
    far["start"] = far["end"] = 10**30  # JSON takes any integer; this is past the year 9999
    batch = decode_request(orjson.dumps(json_request([far, fine])), Encoding.JSON)
    assert [row.name for row in batch.rows] == ["turn"]
    assert batch.rejected == 1
    assert batch.problems == ["a span has a time or value the store cannot hold"]


def test_a_json_attribute_without_a_key_makes_the_body_undecodable() -> None:
    request = json_request(_payloads())
    request["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"].append(
        {"value": {"stringValue": "no key"}}
    )
    with pytest.raises(OtlpDecodeError, match="not an OTLP JSON trace request"):
        decode_request(orjson.dumps(request), Encoding.JSON)


def _every_kind_of_value() -> bytes:
    """A protobuf request whose attributes hold every kind of OTLP value, nested too."""
    payloads = _payloads()
    request = ExportTraceServiceRequest.FromString(protobuf_request(payloads))
    chat = request.resource_spans[0].scope_spans[0].spans[0]
    tags = AnyValue(array_value=ArrayValue(values=[AnyValue(string_value="a"),
                                                   AnyValue(int_value=2)]))  # fmt: skip
    nested = AnyValue(kvlist_value=KeyValueList(values=[
        KeyValue(key="tier", value=AnyValue(string_value="gold")),
        KeyValue(key="scores", value=AnyValue(array_value=ArrayValue(values=[
            AnyValue(double_value=0.5), AnyValue(bool_value=False)]))),
    ]))  # fmt: skip
    chat.attributes.extend([KeyValue(key="tags", value=tags),
                            KeyValue(key="customer", value=nested),
                            KeyValue(key="empty", value=AnyValue())])  # fmt: skip
    return request.SerializeToString()


def _as_otlp_json(body: bytes) -> bytes:
    """The same request in OTLP/JSON: proto3 JSON (enum names, 64-bit integers as strings),
    with the ids in hex as OTLP asks instead of base64."""
    request = MessageToDict(ExportTraceServiceRequest.FromString(body))
    for resource_spans in request["resourceSpans"]:
        for scope_spans in resource_spans["scopeSpans"]:
            for span in scope_spans["spans"]:
                for name in ("traceId", "spanId", "parentSpanId"):
                    if name in span:
                        span[name] = base64.b64decode(span[name]).hex()
    return orjson.dumps(request)


def test_json_and_protobuf_of_the_same_spans_store_the_same_rows() -> None:
    body = _every_kind_of_value()
    from_protobuf = decode_request(body, Encoding.PROTOBUF)
    from_json = decode_request(_as_otlp_json(body), Encoding.JSON)
    assert from_json.rows == from_protobuf.rows
    chat = orjson.loads(from_json.rows[0].attributes)
    assert chat["tags"] == ["a", 2] and chat["empty"] is None
    assert chat["customer"] == {"tier": "gold", "scores": [0.5, False]}
    assert chat["gen_ai.usage.input_tokens"] == 1200 and chat["gen_ai.request.stream"] is True


def test_the_garbage_collector_is_on_again_after_decoding() -> None:
    decode_request(orjson.dumps(json_request(_payloads())), Encoding.JSON)
    assert gc.isenabled()
    with pytest.raises(OtlpDecodeError):
        decode_request(b'{"resourceSpans": 5}', Encoding.JSON)
    assert gc.isenabled()
