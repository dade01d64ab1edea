"""The simulator honours the client's timeout: a slower answer raises the SDK's timeout error
once the timeout has passed, never later."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx2
import openai
import pytest

from core.simulator import Fault, FaultKind
from tests.core.simulator.conftest import BASE_URL, SleepLog


def openai_client(transport: Any, timeout: float) -> openai.OpenAI:
    return openai.OpenAI(
        api_key="sim",
        base_url=f"{BASE_URL}/v1",
        max_retries=0,
        timeout=timeout,
        http_client=httpx2.Client(transport=transport),
    )


def ask(client: openai.OpenAI, **options: Any) -> Any:
    messages = [{"role": "user", "content": "Hello there!"}]
    return client.chat.completions.create(model="gpt-4o", messages=messages, **options)


def test_a_slow_answer_times_out_after_the_clients_timeout(make_transport, faults):
    log = SleepLog()
    client = openai_client(make_transport(speed=1, sleep=log), timeout=0.5)
    faults.add(Fault(FaultKind.SLOW, times=1, delay_s=2))

    with pytest.raises(openai.APITimeoutError):
        ask(client)

    assert log.calls == [0.5]


def test_a_slow_stream_times_out_before_its_first_chunk(make_transport, faults):
    log = SleepLog()
    client = openai_client(make_transport(speed=1, sleep=log), timeout=0.5)
    faults.add(Fault(FaultKind.SLOW, times=1, delay_s=2))
    received = []

    with pytest.raises(openai.APITimeoutError):
        for chunk in ask(client, stream=True):
            received.append(chunk)

    assert received == []
    assert log.calls == [0.5]


def test_an_answer_within_the_timeout_is_unaffected(make_transport, faults):
    log = SleepLog()
    client = openai_client(make_transport(speed=1, sleep=log), timeout=30)
    faults.add(Fault(FaultKind.SLOW, times=1, delay_s=2))

    assert ask(client).choices[0].message.content
    assert log.calls[0] > 2


def test_the_timeout_fault_waits_no_longer_than_the_clients_timeout(make_transport, faults):
    log = SleepLog()
    transport = make_transport(speed=1, sleep=log)
    faults.add(Fault(FaultKind.TIMEOUT, times=2, delay_s=5))
    claude = anthropic.Anthropic(
        api_key="sim",
        base_url=BASE_URL,
        max_retries=0,
        timeout=0.5,
        http_client=httpx2.Client(transport=transport),
    )

    with pytest.raises(openai.APITimeoutError):
        ask(openai_client(transport, timeout=0.5))
    with pytest.raises(anthropic.APITimeoutError):
        claude.messages.create(
            model="claude-3-5-haiku", max_tokens=50, messages=[{"role": "user", "content": "Hi"}]
        )

    assert log.calls == [0.5, 0.5]


def test_the_timeout_fault_shorter_than_the_clients_timeout_waits_its_own_delay(
    make_transport, faults
):
    log = SleepLog()
    client = openai_client(make_transport(speed=1, sleep=log), timeout=30)
    faults.add(Fault(FaultKind.TIMEOUT, times=1, delay_s=5))

    with pytest.raises(openai.APITimeoutError):
        ask(client)

    assert log.calls == [5]


def test_at_speed_zero_the_timeout_still_happens_without_sleeping(make_transport, faults):
    log = SleepLog()
    client = openai_client(make_transport(speed=0, sleep=log), timeout=0.5)
    faults.add(Fault(FaultKind.SLOW, times=1, delay_s=2))

    with pytest.raises(openai.APITimeoutError):
        ask(client)

    assert log.calls == []


async def test_async_clients_time_out_too(make_transport, faults):
    log = SleepLog()
    transport = make_transport(speed=1, async_sleep=log.asleep, sleep=lambda s: 1 / 0)
    client = openai.AsyncOpenAI(
        api_key="sim",
        base_url=f"{BASE_URL}/v1",
        max_retries=0,
        timeout=0.5,
        http_client=httpx2.AsyncClient(transport=transport),
    )
    faults.add(Fault(FaultKind.SLOW, times=1, delay_s=2))

    with pytest.raises(openai.APITimeoutError):
        await client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "Hello"}]
        )

    assert log.calls == [0.5]
