"""Latency follows the model's profile scaled by speed; every request body is recorded."""

from __future__ import annotations

from typing import Any

import httpx2
import openai
import pytest

from core.simulator import Fault, FaultKind
from core.simulator.messages import Provider
from core.simulator.profiles import resolve_model
from tests.core.simulator.conftest import SleepLog


def client_for(transport: Any) -> openai.OpenAI:
    return openai.OpenAI(
        api_key="sim",
        base_url="https://simulator.invalid/v1",
        max_retries=0,
        http_client=httpx2.Client(transport=transport),
    )


def ask(client: openai.OpenAI, **options: Any) -> Any:
    messages = [{"role": "user", "content": "Hello there!"}]
    return client.chat.completions.create(model="gpt-4o", messages=messages, **options)


def test_speed_zero_never_sleeps(make_transport):
    log = SleepLog()
    client = client_for(make_transport(speed=0, sleep=log))
    ask(client)
    list(ask(client, stream=True))
    assert log.calls == []


def test_non_stream_waits_first_chunk_plus_generation(make_transport):
    log = SleepLog()
    reply = ask(client_for(make_transport(speed=1, sleep=log)))
    profile = resolve_model("gpt-4o", Provider.OPENAI, {})
    expected = profile.ttft_ms / 1000 + reply.usage.completion_tokens / profile.tokens_per_s
    assert len(log.calls) == 1
    assert log.calls[0] == pytest.approx(expected, rel=profile.jitter + 0.01)


def test_stream_releases_chunks_over_time(make_transport):
    log = SleepLog()
    client = client_for(make_transport(speed=1, sleep=log))
    profile = resolve_model("gpt-4o", Provider.OPENAI, {})
    seen_before_each_chunk = []
    for _ in ask(client, stream=True):
        seen_before_each_chunk.append(len(log.calls))
    assert seen_before_each_chunk[0] == 1
    assert seen_before_each_chunk[-1] > seen_before_each_chunk[0] + 5
    assert log.calls[0] >= profile.ttft_ms / 1000 * (1 - profile.jitter)
    assert max(log.calls[1:]) < log.calls[0]


def test_speed_scales_every_delay(make_transport):
    full, tenth = SleepLog(), SleepLog()
    ask(client_for(make_transport(speed=1, sleep=full, seed=1)))
    ask(client_for(make_transport(speed=0.1, sleep=tenth, seed=1)))
    assert tenth.calls[0] == pytest.approx(full.calls[0] / 10)


def test_slow_fault_adds_its_delay(make_transport, faults):
    log = SleepLog()
    client = client_for(make_transport(speed=1, sleep=log))
    ask(client)
    faults.add(Fault(FaultKind.SLOW, times=1, delay_s=4))
    ask(client)
    assert log.calls[1] - log.calls[0] == pytest.approx(4, abs=1.0)


async def test_async_client_awaits_the_delays(make_transport):
    log = SleepLog()
    transport = make_transport(speed=1, async_sleep=log.asleep, sleep=lambda s: 1 / 0)
    client = openai.AsyncOpenAI(
        api_key="sim",
        base_url="https://simulator.invalid/v1",
        max_retries=0,
        http_client=httpx2.AsyncClient(transport=transport),
    )
    stream = await client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "Hello"}], stream=True
    )
    chunks = [chunk async for chunk in stream]
    assert len(log.calls) > 5 and len(chunks) > 5


def test_recorder_keeps_bodies_without_credentials(openai_client, recorder):
    openai_client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "My email is ann@example.com"}]
    )
    (recorded,) = recorder.requests
    assert recorded.path == "/v1/chat/completions"
    assert recorded.body["messages"][0]["content"] == "My email is ann@example.com"
    assert "ann@example.com" in recorded.text
    assert "authorization" not in {key.lower() for key in recorded.headers}
    recorder.clear()
    assert recorder.requests == []


def test_response_headers_carry_request_ids(openai_client, anthropic_client):
    raw = openai_client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
    )
    assert raw.headers["x-request-id"].startswith("req_")
    raw_message = anthropic_client.messages.with_raw_response.create(
        model="claude-3-5-haiku", max_tokens=20, messages=[{"role": "user", "content": "hi"}]
    )
    assert raw_message.headers["request-id"].startswith("req_")
