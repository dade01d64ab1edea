"""Injected faults surface as the SDKs' own exceptions, for the calls and models they target."""

from __future__ import annotations

import json
import threading
from typing import Any

import anthropic
import httpx2
import openai
import pytest

from core.simulator import Fault, FaultKind, FaultPlan

pytestmark = pytest.mark.filterwarnings("ignore:The model .* is deprecated:DeprecationWarning")
SCHEMA = {
    "type": "object",
    "required": ["intent", "order_number"],
    "properties": {
        "intent": {"type": "string", "enum": ["order_status", "other"]},
        "order_number": {"type": "string"},
    },
}


def chat(client: openai.OpenAI, model: str = "gpt-4o", **options: Any) -> Any:
    messages = [{"role": "user", "content": "Where is ORD-10001?"}]
    return client.chat.completions.create(model=model, messages=messages, **options)


def message(client: anthropic.Anthropic, **options: Any) -> Any:
    return client.messages.create(
        model="claude-3-5-haiku",
        max_tokens=100,
        messages=[{"role": "user", "content": "Hello"}],
        **options,
    )


def test_rate_limit_is_a_429_with_retry_after(openai_client, faults):
    faults.add(Fault(FaultKind.RATE_LIMIT, times=1, retry_after_s=7))
    with pytest.raises(openai.RateLimitError) as caught:
        chat(openai_client)
    assert caught.value.response.headers["retry-after"] == "7"
    assert caught.value.response.headers["retry-after-ms"] == "7000"
    assert caught.value.body["code"] == "rate_limit_exceeded"
    assert chat(openai_client).choices[0].message.content


def test_anthropic_rate_limit_and_overload(anthropic_client, faults):
    faults.add(Fault(FaultKind.RATE_LIMIT, provider="anthropic", times=1, retry_after_s=2))
    faults.add(Fault(FaultKind.SERVER_ERROR, provider="anthropic", times=1, status_code=529))
    with pytest.raises(anthropic.RateLimitError) as caught:
        message(anthropic_client)
    assert caught.value.response.headers["retry-after"] == "2"
    assert caught.value.body["error"]["type"] == "rate_limit_error"
    with pytest.raises(anthropic.APIStatusError) as overloaded:
        message(anthropic_client)
    assert overloaded.value.status_code == 529
    assert message(anthropic_client).content[0].text


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors(openai_client, faults, status):
    faults.add(Fault(FaultKind.SERVER_ERROR, times=1, status_code=status))
    with pytest.raises(openai.InternalServerError) as caught:
        chat(openai_client)
    assert caught.value.status_code == status


def test_timeout_raises_the_sdk_timeout_error(openai_client, anthropic_client, faults):
    faults.add(Fault(FaultKind.TIMEOUT, times=2))
    with pytest.raises(openai.APITimeoutError):
        chat(openai_client)
    with pytest.raises(anthropic.APITimeoutError):
        message(anthropic_client)


async def test_timeout_on_async_client(async_openai_client, faults):
    faults.add(Fault(FaultKind.TIMEOUT, times=1))
    with pytest.raises(openai.APITimeoutError):
        await async_openai_client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
        )


def test_malformed_json_in_json_mode_content(openai_client, faults):
    faults.add(Fault(FaultKind.MALFORMED_JSON, times=1))
    content = chat(openai_client, response_format={"type": "json_object"}).choices[0].message
    with pytest.raises(json.JSONDecodeError):
        json.loads(content.content)


def test_malformed_body_for_plain_text_fails_to_parse(openai_client, anthropic_client, faults):
    faults.add(Fault(FaultKind.MALFORMED_JSON, times=2))
    with pytest.raises(ValueError):
        chat(openai_client)
    with pytest.raises(ValueError):
        message(anthropic_client)


def test_malformed_stream_fails_midway(openai_client, faults):
    faults.add(Fault(FaultKind.MALFORMED_JSON, times=1))
    with pytest.raises(ValueError):
        list(chat(openai_client, stream=True))


def test_stream_cut_stops_a_stream_halfway(openai_client, faults):
    whole = list(chat(openai_client, stream=True))
    faults.add(Fault(FaultKind.STREAM_CUT, times=1))
    received = []
    with pytest.raises(openai.APIConnectionError) as caught:
        for chunk in chat(openai_client, stream=True):
            received.append(chunk)
    assert isinstance(caught.value.__cause__, httpx2.RemoteProtocolError)
    assert abs(len(received) - len(whole) / 2) <= 1
    text = "".join(c.choices[0].delta.content or "" for c in received if c.choices)
    assert text and whole[-1].choices[0].finish_reason == "stop"


def test_stream_cut_on_anthropic_and_on_a_json_body(anthropic_client, openai_client, faults):
    faults.add(Fault(FaultKind.STREAM_CUT, times=2))
    events = []
    with pytest.raises(anthropic.APIConnectionError):
        for event in message(anthropic_client, stream=True):
            events.append(event.type)
    assert events[0] == "message_start" and "message_stop" not in events
    with pytest.raises(openai.APIConnectionError):
        chat(openai_client)
    assert chat(openai_client).choices[0].message.content


async def test_stream_cut_on_an_async_stream(async_openai_client, faults):
    faults.add(Fault(FaultKind.STREAM_CUT, times=1))
    stream = await async_openai_client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    received = []
    with pytest.raises(openai.APIConnectionError):
        async for chunk in stream:
            received.append(chunk)
    assert received


def test_schema_violation_drops_required_fields(openai_client, faults):
    faults.add(Fault(FaultKind.SCHEMA_VIOLATION, times=1))
    response_format = {"type": "json_schema", "json_schema": {"name": "t", "schema": SCHEMA}}
    broken = json.loads(
        chat(openai_client, response_format=response_format).choices[0].message.content
    )
    intact = json.loads(
        chat(openai_client, response_format=response_format).choices[0].message.content
    )
    assert "intent" not in broken and "order_number" not in broken
    assert intact == {"intent": "order_status", "order_number": "ORD-10001"}


def test_schema_violation_in_tool_arguments(openai_client, faults, support_tools):
    faults.add(Fault(FaultKind.SCHEMA_VIOLATION, times=1))
    call = chat(openai_client, tools=support_tools).choices[0].message.tool_calls[0]
    assert call.function.name == "get_order_status"
    assert json.loads(call.function.arguments) == {}


def test_fault_targets_provider_and_model_only(openai_client, anthropic_client, faults):
    faults.add(Fault(FaultKind.SERVER_ERROR, provider="openai", model="gpt-4o"))
    assert chat(openai_client, model="gpt-4o-mini").choices
    assert message(anthropic_client).content
    with pytest.raises(openai.InternalServerError):
        chat(openai_client, model="gpt-4o")
    with pytest.raises(openai.InternalServerError):
        chat(openai_client, model="gpt-4o")
    faults.clear()
    assert chat(openai_client, model="gpt-4o").choices


def test_azure_faults_match_the_deployment(azure_client, openai_client, faults):
    faults.add(Fault(FaultKind.RATE_LIMIT, provider="azure", model="support-chat", times=1))
    assert chat(openai_client, model="gpt-4o-mini").choices
    with pytest.raises(openai.RateLimitError):
        chat(azure_client, model="support-chat")


def test_pending_counts_down_and_describes(openai_client, faults):
    faults.add(Fault(FaultKind.RATE_LIMIT, provider="openai", times=2))
    faults.add(Fault(FaultKind.SLOW, probability=0.5, delay_s=3))
    assert [p.remaining for p in faults.pending()] == [2, None]
    with pytest.raises(openai.RateLimitError):
        chat(openai_client)
    assert faults.pending()[0].remaining == 1
    assert faults.pending()[0].describe() == (
        "rate_limit · openai/any model · next 2 calls (1 left)"
    )
    assert faults.pending()[1].describe() == "slow · any provider/any model · 50% of calls"


def test_probability_is_repeatable_for_a_seed():
    def firings(seed: int) -> list[bool]:
        plan = FaultPlan(seed=seed).add(Fault(FaultKind.SERVER_ERROR, probability=0.3))
        return [plan.draw("openai", frozenset({"gpt-4o"})).failure is not None for _ in range(200)]

    assert firings(1) == firings(1)
    assert 40 <= sum(firings(1)) <= 80


def test_times_is_exact_under_concurrency():
    plan = FaultPlan().add(Fault(FaultKind.RATE_LIMIT, times=50))
    fired: list[bool] = []

    def worker() -> None:
        for _ in range(20):
            fired.append(plan.draw("openai", frozenset({"gpt-4o"})).failure is not None)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(fired) == 50
    assert plan.pending() == []


def test_invalid_fault_settings_are_refused():
    with pytest.raises(ValueError):
        Fault(FaultKind.RATE_LIMIT, times=0)
    with pytest.raises(ValueError):
        Fault(FaultKind.RATE_LIMIT, probability=1.5)
