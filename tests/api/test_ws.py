"""``/ws``: a token in the query or the first message, subscriptions, events as traces end,
cost thresholds, and a client that falls behind is dropped."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from starlette.websockets import WebSocketDisconnect

from observability.api.events import EventHub, EventType
from observability.insights.alerts import AlertWatcher, collect_alerts
from observability.insights.anomalies import Incident, Signal, SignalStatus, State
from tests.api.conftest import ApiHarness
from tests.api.otlp_payloads import chat_spans, protobuf_request


def test_token_in_the_query_and_trace_created_when_our_trace_ends(harness: ApiHarness) -> None:
    token = harness.token(("traces:read",))
    with harness.http.websocket_connect(f"/ws?token={token}") as ws:
        assert ws.receive_json()["type"] == "authenticated"
        ws.send_json({"type": "subscribe", "events": ["trace_created"]})
        assert ws.receive_json()["events"] == ["trace_created"]
        with harness.observatory.span("turn") as root, harness.observatory.span("retrieval kb"):
            pass
        event = ws.receive_json()
    assert event["type"] == "trace_created"
    assert event["data"]["trace_id"] == format(root.get_span_context().trace_id, "032x")
    assert event["data"]["spans"] == 2 and event["data"]["root_name"] == "turn"
    assert event["data"]["published_after_ms"] < 1000


def test_token_as_first_message_and_cost_threshold_from_ingested_spans(
    harness: ApiHarness,
) -> None:
    token = harness.token(("traces:read", "costs:read"))
    with harness.http.websocket_connect("/ws") as ws:
        ws.send_json({"type": "auth", "token": token})
        assert ws.receive_json()["type"] == "authenticated"
        ws.send_json({"type": "subscribe", "events": ["cost_threshold"],
                      "cost_threshold_usd": 0.0005})  # fmt: skip
        assert ws.receive_json()["cost_threshold_usd"] == 0.0005
        spans = chat_spans(1)  # 1,200 + 300 tokens of gpt-4o-mini: $0.00036
        costly = chat_spans(1)
        costly[0]["attributes"]["gen_ai.usage.input_tokens"] = 10_000  # $0.00168
        headers = {"Content-Type": "application/x-protobuf", **harness.auth(("ingest:write",))}
        for batch in (spans, costly):
            body = protobuf_request(batch)
            assert harness.http.post("/v1/traces", content=body, headers=headers).status_code == 200
        event = ws.receive_json()
    assert event["type"] == "cost_threshold"
    assert event["data"]["trace_id"] == costly[0]["trace_id"].hex()
    assert event["data"]["cost_usd"] == pytest.approx(10_000 * 0.15e-6 + 300 * 0.6e-6)
    assert event["data"]["service"] == "billing-service"


def test_bad_token_or_missing_scope_is_refused(harness: ApiHarness) -> None:
    with harness.http.websocket_connect("/ws?token=nope") as ws:
        assert ws.receive_json()["type"] == "error"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 1008
    token = harness.token(("traces:read",))
    with harness.http.websocket_connect(f"/ws?token={token}") as ws:
        ws.receive_json()
        ws.send_json({"type": "subscribe", "events": ["anomaly"]})
        assert "metrics:read" in ws.receive_json()["message"]


def test_a_client_that_falls_behind_is_dropped_without_slowing_the_publisher() -> None:
    dropped = []

    async def scenario() -> None:
        hub = EventHub(queue_events=5, on_drop=lambda: dropped.append(1))
        slow = hub.subscribe()
        slow.events = {EventType.ANOMALY}
        began = time.perf_counter()
        for number in range(50):
            hub.publish(EventType.ANOMALY, {"n": number})
        assert time.perf_counter() - began < 0.5
        await asyncio.sleep(0.05)  # the hand-offs run on the loop
        assert slow.dropped.is_set()
        assert slow.queue.qsize() == 5
        hub.publish(EventType.ANOMALY, {"n": 99})
        await asyncio.sleep(0.01)
        assert slow.queue.qsize() == 5

    asyncio.run(scenario())
    assert dropped == [1]


def test_an_ingested_trace_is_announced_once_with_all_its_spans(harness: ApiHarness) -> None:
    token = harness.token(("traces:read",))
    root, child, grandchild = chat_spans(3)
    trace_id = root["trace_id"]
    child.update(trace_id=trace_id, parent_id=root["span_id"])
    grandchild.update(trace_id=trace_id, parent_id=child["span_id"])
    root["name"] = "checkout"
    [other] = chat_spans(1)
    headers = {"Content-Type": "application/x-protobuf", **harness.auth(("ingest:write",))}
    with harness.http.websocket_connect(f"/ws?token={token}") as ws:
        ws.receive_json()
        ws.send_json({"type": "subscribe", "events": ["trace_created"]})
        ws.receive_json()
        for batch in ([grandchild, root, child], [other]):
            body = protobuf_request(batch)
            assert harness.http.post("/v1/traces", content=body, headers=headers).status_code == 200
        first, second = ws.receive_json(), ws.receive_json()
    assert first["data"]["trace_id"] == trace_id.hex()
    assert first["data"]["root_name"] == "checkout" and first["data"]["spans"] == 3
    assert first["data"]["cost_usd"] == pytest.approx(3 * (1200 * 0.15e-6 + 300 * 0.6e-6))
    assert second["data"]["trace_id"] == other["trace_id"].hex()


def test_an_anomaly_the_watcher_finds_reaches_anomaly_subscribers_once(
    harness: ApiHarness,
) -> None:
    at = datetime(2026, 12, 7, 9, 40, tzinfo=UTC)
    spike = Incident(
        Signal.P95_LATENCY, State.WARNING, at, at + timedelta(minutes=12), 2700, 800, 300
    )
    found: list[list[SignalStatus]] = [[]]  # what the detector finds in the current round
    watcher = AlertWatcher(
        harness.services.queries.engine,
        lambda: collect_alerts(found[0], []),
        None,
        None,
        interval_s=3600,
    )
    token = harness.token(("metrics:read",))
    with harness.http.websocket_connect(f"/ws?token={token}") as ws:
        ws.receive_json()
        ws.send_json({"type": "subscribe", "events": ["anomaly"]})
        ws.receive_json()
        watcher.listen(partial(harness.services.events.publish, EventType.ANOMALY))
        watcher.run_once()  # nothing found yet
        found[0] = [SignalStatus(Signal.P95_LATENCY, State.WARNING, 2700, 800, (spike,))]
        watcher.run_once()
        watcher.run_once()  # the same incident: not told again
        grown = replace(spike, state=State.ALERT, end=at + timedelta(minutes=20))
        found[0] = [SignalStatus(Signal.P95_LATENCY, State.ALERT, 2900, 800, (grown,))]
        watcher.run_once()
        first, second = ws.receive_json(), ws.receive_json()
        watcher.close()
    assert first["type"] == second["type"] == "anomaly"
    assert first["data"] == {
        "key": "anomaly:p95 latency:2026-12-07T09:40:00+00:00",
        "kind": "anomaly",
        "state": "warning",
        "title": "p95 latency spike",
        "size": "p95 3.4× its baseline for 12 min",
        "start": "2026-12-07T09:40:00+00:00",
        "end": "2026-12-07T09:52:00+00:00",
        "link": first["data"]["link"],
    }
    assert first["data"]["link"].startswith("/traces?start=2026-12-07T09%3A40")
    assert second["data"]["state"] == "alert" and second["data"]["key"] == first["data"]["key"]
