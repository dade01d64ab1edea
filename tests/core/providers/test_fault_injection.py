"""Faults in front of a real provider: the real SDKs over the fault injector, with a fake network.

The "network" is an ``httpx2.MockTransport`` that counts what reaches it and answers like the
real APIs (by asking the simulator, faults off), so a fault that should never leave the app is
seen not to, and one that breaks a real answer is seen to break it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import anthropic
import httpx2
import openai
import pytest
from pydantic import SecretStr

from core.faults import Fault, FaultKind, FaultPlan
from core.providers import ChatMessage, ChatRequest, ProviderSet, create_providers
from core.providers.errors import MalformedResponse, ProviderUnavailable, RateLimited
from core.providers.fault_injection import CUT_AFTER_EVENTS
from core.settings import ProviderSettings, Settings
from core.simulator import create_simulator_transport
from observability.clock import current_clock, simulated_clock

pytestmark = pytest.mark.filterwarnings("ignore:The model .* is deprecated:DeprecationWarning")
AZURE = "https://northwind.openai.azure.com"


class Network:
    """The fake internet: every request that leaves the app, answered like the real APIs."""

    def __init__(self) -> None:
        self.requests: list[httpx2.Request] = []
        self.answering_s = 0.0
        """Simulated seconds the fake provider took (it paces on the simulated clock too)."""
        self._api = create_simulator_transport(
            speed=0, seed=5, deployments={"support-chat": "gpt-4o-mini"}
        )
        self.transport = httpx2.MockTransport(self._answer)

    def _answer(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        clock = current_clock()
        before = clock.advanced_s if clock else 0.0
        response = self._api.handle_request(request)
        self.answering_s += (clock.advanced_s if clock else 0.0) - before
        return response

    def hosts(self) -> list[str]:
        return [request.url.host for request in self.requests]


@pytest.fixture
def network() -> Network:
    return Network()


@pytest.fixture
def faults() -> FaultPlan:
    return FaultPlan(seed=2)


@pytest.fixture
def providers(network: Network, faults: FaultPlan) -> ProviderSet:
    keys = ProviderSettings(
        openai_api_key=SecretStr("sk-test"),
        anthropic_api_key=SecretStr("sk-ant-test"),
        azure_openai_api_key=SecretStr("az-test"),
        azure_openai_endpoint=AZURE,
        azure_deployments={"support-chat": "gpt-4o-mini"},
        request_timeout_s=2.0,
    )
    return create_providers(
        Settings(providers=keys),
        faults=faults,
        upstream=network.transport,
        async_upstream=network.transport,
    )


@pytest.fixture
def clock() -> Iterator[Any]:
    """Slow answers and timeouts advance a simulated clock instead of sleeping."""
    with simulated_clock(datetime(2026, 12, 7, 12, 0, tzinfo=UTC)) as simulated:
        yield simulated


def ask(model: str, **options: Any) -> ChatRequest:
    messages = [ChatMessage(role="user", content="Where is my order ORD-10001?")]
    return ChatRequest(messages=messages, model=model, **options)


def sdk(providers: ProviderSet, name: str) -> Any:
    return providers.get(name).client  # type: ignore[attr-defined]


def test_without_a_fault_the_real_provider_answers(providers, network):
    answer = providers.get("openai").chat(ask("gpt-4o"))

    assert answer.text and answer.simulated is False
    assert network.hosts() == ["api.openai.com"]
    assert network.requests[0].headers["authorization"] == "Bearer sk-test"


def test_rate_limit_answers_429_with_retry_after_and_never_reaches_the_provider(
    providers, network, faults
):
    faults.add(Fault(FaultKind.RATE_LIMIT, provider="openai", times=2, retry_after_s=7))
    client = sdk(providers, "openai")
    for _ in range(2):
        with pytest.raises(openai.RateLimitError) as caught:
            client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
            )
        assert caught.value.response.headers["retry-after"] == "7"
        assert caught.value.body["code"] == "rate_limit_exceeded"
    assert network.requests == []

    assert providers.get("openai").chat(ask("gpt-4o")).text
    assert network.hosts() == ["api.openai.com"]
    assert faults.pending() == []


def test_rate_limit_maps_to_our_error_with_the_wait(providers, faults):
    faults.add(Fault(FaultKind.RATE_LIMIT, provider="openai", times=1, retry_after_s=3))
    with pytest.raises(RateLimited) as caught:
        providers.get("openai").chat(ask("gpt-4o"))
    assert caught.value.retry_after_s == 3


def test_anthropic_server_error_has_anthropics_shape(providers, network, faults):
    faults.add(Fault(FaultKind.SERVER_ERROR, provider="anthropic", times=1, status_code=529))
    with pytest.raises(anthropic.APIStatusError) as caught:
        sdk(providers, "anthropic").messages.create(
            model="claude-haiku-4-5", max_tokens=50, messages=[{"role": "user", "content": "hi"}]
        )
    assert caught.value.status_code == 529
    assert caught.value.body["type"] == "error"
    assert network.requests == []


def test_fault_targets_its_provider_and_model_only(providers, network, faults):
    faults.add(Fault(FaultKind.SERVER_ERROR, provider="openai", model="gpt-4o"))

    assert providers.get("openai").chat(ask("gpt-4o-mini")).text
    assert providers.get("anthropic").chat(ask("claude-haiku-4-5")).text
    with pytest.raises(ProviderUnavailable):
        providers.get("openai").chat(ask("gpt-4o"))
    assert network.hosts() == ["api.openai.com", "api.anthropic.com"]


def test_azure_fault_matches_the_deployment_or_its_model(providers, network, faults):
    faults.add(Fault(FaultKind.RATE_LIMIT, provider="azure", model="gpt-4o-mini", times=1))
    with pytest.raises(RateLimited):
        providers.get("azure").chat(ask("gpt-4o-mini"))
    assert providers.get("openai").chat(ask("gpt-4o-mini")).text
    assert network.hosts() == ["api.openai.com"]


def test_timeout_gives_up_at_the_clients_read_timeout(providers, network, faults, clock):
    faults.add(Fault(FaultKind.TIMEOUT, provider="anthropic", times=1, delay_s=60))
    with pytest.raises(anthropic.APITimeoutError):
        sdk(providers, "anthropic").messages.create(
            model="claude-haiku-4-5", max_tokens=50, messages=[{"role": "user", "content": "hi"}]
        )
    assert clock.advanced_s == pytest.approx(2.0)
    assert network.requests == []


def test_slow_waits_then_lets_the_call_through(providers, network, faults, clock):
    faults.add(Fault(FaultKind.SLOW, provider="openai", times=1, delay_s=1.5))

    assert providers.get("openai").chat(ask("gpt-4o")).text
    assert clock.advanced_s - network.answering_s == pytest.approx(1.5)
    assert network.hosts() == ["api.openai.com"]


def test_slow_past_the_timeout_times_out_before_sending(providers, network, faults, clock):
    faults.add(Fault(FaultKind.SLOW, provider="openai", times=1, delay_s=9))
    with pytest.raises(openai.APITimeoutError):
        sdk(providers, "openai").chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
        )
    assert clock.advanced_s == pytest.approx(2.0)
    assert network.requests == []


def test_malformed_json_breaks_the_real_json_mode_content(providers, network, faults):
    faults.add(Fault(FaultKind.MALFORMED_JSON, provider="openai", times=1))
    completion = sdk(providers, "openai").chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "Where is ORD-10001? Answer in JSON."}],
        response_format={"type": "json_object"},
    )
    with pytest.raises(json.JSONDecodeError):
        json.loads(completion.choices[0].message.content)
    assert network.hosts() == ["api.openai.com"]


def test_malformed_json_body_is_unreadable(providers, faults):
    faults.add(Fault(FaultKind.MALFORMED_JSON, provider="anthropic", times=1))
    with pytest.raises(MalformedResponse):
        providers.get("anthropic").chat(ask("claude-haiku-4-5"))


def test_stream_cut_passes_part_of_the_real_stream_then_drops(providers, network, faults):
    faults.add(Fault(FaultKind.STREAM_CUT, provider="openai", times=1))
    chunks = sdk(providers, "openai").chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "What is your return policy?"}],
        stream=True,
    )
    received = []
    with pytest.raises(openai.APIConnectionError) as caught:
        for chunk in chunks:
            received.append(chunk)
    assert isinstance(caught.value.__cause__, httpx2.RemoteProtocolError)
    assert "stream_cut" in str(caught.value.__cause__)
    assert len(received) == CUT_AFTER_EVENTS
    assert network.hosts() == ["api.openai.com"]


def test_stream_cut_through_our_provider_keeps_the_words_then_fails(providers, faults):
    faults.add(Fault(FaultKind.STREAM_CUT, provider="anthropic", times=1))
    words: list[str] = []
    with pytest.raises(ProviderUnavailable):
        for item in providers.get("anthropic").stream(ask("claude-haiku-4-5")):
            words.append(getattr(item, "text", ""))
    assert "".join(words).strip()


def test_stream_cut_on_a_json_body_drops_the_connection(providers, faults):
    faults.add(Fault(FaultKind.STREAM_CUT, provider="openai", times=1))
    with pytest.raises(ProviderUnavailable):
        providers.get("openai").chat(ask("gpt-4o"))


def test_schema_violation_strips_the_answer(providers, faults):
    faults.add(Fault(FaultKind.SCHEMA_VIOLATION, provider="openai", times=1))
    with pytest.raises(MalformedResponse):
        providers.get("openai").chat(ask("gpt-4o"))


async def test_async_clients_draw_from_the_same_plan(providers, network, faults):
    faults.add(Fault(FaultKind.RATE_LIMIT, provider="openai", times=1))
    with pytest.raises(RateLimited):
        await providers.get("openai").achat(ask("gpt-4o"))
    faults.add(Fault(FaultKind.STREAM_CUT, provider="openai", times=1))
    words: list[str] = []
    with pytest.raises(ProviderUnavailable):
        async for item in providers.get("openai").astream(ask("gpt-4o")):
            words.append(getattr(item, "text", ""))
    assert "".join(words).strip()
    assert (await providers.get("openai").achat(ask("gpt-4o"))).text
    assert network.hosts() == ["api.openai.com", "api.openai.com"]


def test_without_a_fault_plan_real_clients_use_the_sdks_own_transport():
    keys = ProviderSettings(openai_api_key=SecretStr("sk-test"))
    client = create_providers(Settings(providers=keys)).get("openai").client  # type: ignore[attr-defined]
    assert "FaultInjectingTransport" not in type(client._client._transport).__name__
