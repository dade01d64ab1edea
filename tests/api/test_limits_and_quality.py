"""Rate limits per client and tier (memory and Redis), quality from the spans that carry it,
and the store buffer's all-or-nothing offer that ingest relies on."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanContext, TraceFlags

from observability.api import Tier
from observability.api.ratelimit import ClientRateLimits
from observability.store.exporter import StoreSpanProcessor
from tests.api.conftest import ApiHarness, build_harness, load_spans


@pytest.fixture
def tight(tmp_path: Path) -> Iterator[ApiHarness]:
    """The API with a free tier of 3 requests a minute."""
    yield from build_harness(
        f"sqlite:///{tmp_path / 't.db'}", tmp_path,
        tier_limits={Tier.FREE: 3, Tier.STANDARD: 600, Tier.ENTERPRISE: 6000},
    )  # fmt: skip


def test_headers_count_down_then_429_with_retry_after(tight: ApiHarness) -> None:
    headers = tight.auth(("traces:read",), Tier.FREE)
    remaining = []
    for _ in range(3):
        answer = tight.http.get("/api/v1/traces", headers=headers)
        assert answer.status_code == 200
        assert answer.headers["X-RateLimit-Limit"] == "3"
        assert int(answer.headers["X-RateLimit-Reset"]) >= int(time.time())
        remaining.append(int(answer.headers["X-RateLimit-Remaining"]))
    assert remaining == [2, 1, 0]
    over = tight.http.get("/api/v1/traces", headers=headers)
    assert over.status_code == 429
    assert over.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(over.headers["Retry-After"]) <= 60
    assert over.headers["X-RateLimit-Remaining"] == "0"
    other_client = tight.auth(("traces:read",), Tier.FREE)
    assert tight.http.get("/api/v1/traces", headers=other_client).status_code == 200


def test_redis_limits_are_shared_by_every_process(redis_url: str) -> None:
    limits = {Tier.FREE: 2, Tier.STANDARD: 600, Tier.ENTERPRISE: 6000}
    first, second = ClientRateLimits(limits, redis_url), ClientRateLimits(limits, redis_url)
    assert first.hit("oc_shared", Tier.FREE).allowed
    assert second.hit("oc_shared", Tier.FREE).allowed
    assert not first.hit("oc_shared", Tier.FREE).allowed


def test_redis_that_does_not_answer_falls_back_to_memory() -> None:
    limits = {Tier.FREE: 1, Tier.STANDARD: 600, Tier.ENTERPRISE: 6000}
    gone = ClientRateLimits(limits, "redis://127.0.0.1:1/0")
    assert gone.hit("oc_x", Tier.FREE).allowed
    assert not gone.hit("oc_x", Tier.FREE).allowed


def _span(name: str, trace_id: int, at: datetime, attributes: dict) -> ReadableSpan:
    context = SpanContext(trace_id, trace_id & 0xFFFF_FFFF or 1, False, TraceFlags(1))
    moment = int(at.timestamp() * 1e9)
    resource = Resource({"service.name": "t"})
    return ReadableSpan(name=name, context=context, resource=resource, attributes=attributes,
                        start_time=moment, end_time=moment + 1000)  # fmt: skip


def test_quality_reads_scores_thumbs_and_escalations(tmp_path: Path) -> None:
    at = datetime(2026, 10, 1, 10, 30, tzinfo=UTC)
    spans = [
        _span("turn", 1, at, {"observatory.quality.score": 0.9}),
        _span("turn", 2, at, {"observatory.quality.score": 0.5}),
        _span("turn", 3, at, {"observatory.quality.score": 0.7}),
        _span("turn", 4, at, {"observatory.quality.score": 0.3}),
        _span("annotation feedback", 5, at, {"observatory.annotation.value": 1}),
        _span("annotation feedback", 6, at, {"observatory.annotation.value": -1}),
        _span("annotation feedback", 7, at, {"observatory.annotation.value": 1}),
        _span("execute_tool create_ticket", 8, at, {"gen_ai.operation.name": "execute_tool"}),
    ]
    for harness in build_harness(f"sqlite:///{tmp_path / 'q.db'}", tmp_path,
                                 escalation_tools=("create_ticket",)):  # fmt: skip
        load_spans(harness, spans)
        window = {"start": (at - timedelta(hours=1)).isoformat(),
                  "end": (at + timedelta(hours=1)).isoformat(), "granularity": "day"}  # fmt: skip
        answer = harness.http.get("/api/v1/metrics/quality", params=window, headers=harness.auth())
        [row] = answer.json()["data"]
        assert row["turns"] == 4
        assert row["quality_score"] == pytest.approx(0.6)
        assert row["thumbs_up_rate"] == pytest.approx(2 / 3)
        assert row["escalation_rate"] == pytest.approx(1 / 4)


class _NoWriter:
    def write(self, rows: object) -> None:
        raise AssertionError("not written in this test")


def test_store_buffer_takes_a_batch_whole_or_not_at_all() -> None:
    processor = StoreSpanProcessor(_NoWriter(), buffer_spans=10, start_thread=False)  # type: ignore[arg-type]
    batch = [_span("chat", 1 + i, datetime.now(UTC), {}) for i in range(8)]
    assert processor.offer(batch)
    assert not processor.offer(batch[:3])
    stats = processor.stats()
    assert (stats.ended, stats.pending, stats.dropped) == (8, 8, 0)
