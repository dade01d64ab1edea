"""``POST /v1/traces``: OTLP protobuf and JSON in, spans stored priced and listed."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from tests.api.conftest import ApiHarness, build_harness
from tests.api.otlp_payloads import chat_spans, json_request, protobuf_request

PROTOBUF = {"Content-Type": "application/x-protobuf"}


def _listed(harness: ApiHarness) -> list[dict[str, object]]:
    harness.flush()
    answer = harness.http.get("/api/v1/traces", headers=harness.auth(("traces:read",)))
    return list(answer.json()["data"])


def test_protobuf_spans_are_stored_priced_and_listed_with_their_service(
    any_harness: ApiHarness,
) -> None:
    spans = chat_spans(3)
    headers = {**PROTOBUF, **any_harness.auth(("ingest:write",))}
    answer = any_harness.http.post("/v1/traces", content=protobuf_request(spans), headers=headers)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/x-protobuf"
    assert not ExportTraceServiceResponse.FromString(answer.content).HasField("partial_success")
    listed = _listed(any_harness)
    assert {row["trace_id"] for row in listed} == {s["trace_id"].hex() for s in spans}, listed
    for row in listed:
        assert row["service"] == "billing-service"
        assert row["provider"] == "openai" and row["model"] == "gpt-4o-mini"
        # gpt-4o-mini: $0.15 per million input tokens, $0.60 per million output tokens.
        assert row["cost_usd"] == pytest.approx(1200 * 0.15e-6 + 300 * 0.60e-6)


def test_gzipped_json_with_hex_ids_is_stored(harness: ApiHarness) -> None:
    spans = chat_spans(2)
    body = gzip.compress(json.dumps(json_request(spans)).encode())
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip",
               **harness.auth(("ingest:write",))}  # fmt: skip
    answer = harness.http.post("/v1/traces", content=body, headers=headers)
    assert answer.status_code == 200
    assert answer.json() == {}
    harness.flush()
    trace_id = spans[0]["trace_id"].hex()
    detail = harness.http.get(f"/api/v1/traces/{trace_id}", headers=harness.auth(("traces:read",)))
    [span] = detail.json()["spans"]
    assert span["span_id"] == spans[0]["span_id"].hex()
    assert span["input_tokens"] == 1200 and span["cost_status"] == "priced"
    assert span["kind"] == "client"


def test_spans_it_cannot_take_come_back_as_partial_success(harness: ApiHarness) -> None:
    good, bad = chat_spans(2)
    bad["trace_id"] = b"\0" * 16
    headers = {**PROTOBUF, **harness.auth(("ingest:write",))}
    answer = harness.http.post("/v1/traces", content=protobuf_request([good, bad]), headers=headers)
    assert answer.status_code == 200
    partial = ExportTraceServiceResponse.FromString(answer.content).partial_success
    assert partial.rejected_spans == 1
    assert "trace id" in partial.error_message
    assert [row["trace_id"] for row in _listed(harness)] == [good["trace_id"].hex()]

    as_json = json_request(chat_spans(1))
    as_json["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["spanId"] = "xyz"
    headers = {"Content-Type": "application/json", **harness.auth(("ingest:write",))}
    answer = harness.http.post("/v1/traces", json=as_json, headers=headers)
    assert answer.json()["partialSuccess"]["rejectedSpans"] == "1"


@pytest.mark.parametrize(
    ("content_type", "body"),
    [("application/x-protobuf", b"\xff\xff\xff not protobuf"), ("application/json", b"{nope")],
)
def test_undecodable_body_is_400(harness: ApiHarness, content_type: str, body: bytes) -> None:
    headers = {"Content-Type": content_type, **harness.auth(("ingest:write",))}
    answer = harness.http.post("/v1/traces", content=body, headers=headers)
    assert answer.status_code == 400
    if content_type == "application/json":
        assert answer.json()["error"]["code"] == "invalid_request"
    else:
        assert "not an OTLP protobuf" in status_pb2.Status.FromString(answer.content).message


def test_other_content_type_is_415(harness: ApiHarness) -> None:
    headers = {"Content-Type": "text/plain", **harness.auth(("ingest:write",))}
    answer = harness.http.post("/v1/traces", content=b"hello", headers=headers)
    assert answer.status_code == 415


@pytest.fixture
def small_harness(tmp_path: Path) -> Iterator[ApiHarness]:
    """The API taking OTLP bodies of at most 64 KiB."""
    yield from build_harness(
        f"sqlite:///{tmp_path / 'traces.db'}", tmp_path, max_ingest_bytes=64 * 1024
    )


def test_body_over_the_limit_is_413_even_when_gzip_hides_it(small_harness: ApiHarness) -> None:
    headers = {**PROTOBUF, **small_harness.auth(("ingest:write",))}
    big = protobuf_request(chat_spans(1000))
    assert small_harness.http.post("/v1/traces", content=big, headers=headers).status_code == 413
    bomb = gzip.compress(b"\0" * (10 * 1024 * 1024))
    assert len(bomb) < 64 * 1024
    answer = small_harness.http.post(
        "/v1/traces", content=bomb, headers={**headers, "Content-Encoding": "gzip"}
    )
    assert answer.status_code == 413


def test_full_store_buffer_is_503_with_retry_after(harness: ApiHarness) -> None:
    class Full:
        def offer_spans(self, spans: object) -> bool:
            return False

        def store_stats(self) -> None:
            return None

    harness.services.readiness.sink = Full()
    headers = {**PROTOBUF, **harness.auth(("ingest:write",))}
    answer = harness.http.post(
        "/v1/traces", content=protobuf_request(chat_spans(1)), headers=headers
    )
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "2"
    assert 'observatory_otlp_spans_total{outcome="refused"} 1' in harness.http.get("/metrics").text


def test_ingest_needs_the_ingest_scope(harness: ApiHarness) -> None:
    body = protobuf_request(chat_spans(1))
    assert harness.http.post("/v1/traces", content=body, headers=PROTOBUF).status_code == 401
    headers = {**PROTOBUF, **harness.auth(("traces:read",))}
    assert harness.http.post("/v1/traces", content=body, headers=headers).status_code == 403


@pytest.mark.parametrize(("host", "status"), [("127.0.0.1", 200), ("203.0.113.9", 401)])
def test_open_ingest_is_for_loopback_only(tmp_path: Path, host: str, status: int) -> None:
    for harness in build_harness(f"sqlite:///{tmp_path / 't.db'}", tmp_path, client_host=host,
                                 ingest_open_on_loopback=True):  # fmt: skip
        body = protobuf_request(chat_spans(1))
        assert harness.http.post("/v1/traces", content=body, headers=PROTOBUF).status_code == status
