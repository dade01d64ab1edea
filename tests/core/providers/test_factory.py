"""Keys switch each provider to real on its own; everything else answers from the simulator."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr

from core.providers import ChatMessage, ChatRequest, ChatResponse, create_providers
from core.providers.errors import RateLimited
from core.settings import ProviderSettings, Settings
from core.simulator import Fault, FaultKind, FaultPlan, RequestRecorder


def settings(**providers: Any) -> Settings:
    return Settings(providers=ProviderSettings(simulator_speed=0, **providers))


def modes(**providers: Any) -> dict[str, str]:
    return {s.provider: s.mode for s in create_providers(settings(**providers)).describe()}


def test_without_keys_every_provider_is_simulated() -> None:
    assert modes() == {"openai": "simulated", "anthropic": "simulated", "azure": "simulated"}


def test_an_openai_key_makes_only_openai_real() -> None:
    assert modes(openai_api_key=SecretStr("sk-real")) == {
        "openai": "real",
        "anthropic": "simulated",
        "azure": "simulated",
    }


def test_an_anthropic_key_makes_only_anthropic_real() -> None:
    assert modes(anthropic_api_key=SecretStr("sk-ant")) == {
        "openai": "simulated",
        "anthropic": "real",
        "azure": "simulated",
    }


def test_azure_needs_both_key_and_endpoint() -> None:
    key_only = modes(azure_openai_api_key=SecretStr("k"))
    both = modes(
        azure_openai_api_key=SecretStr("k"), azure_openai_endpoint="https://nw.openai.azure.com"
    )

    assert key_only["azure"] == "simulated"
    assert both["azure"] == "real"


def test_describe_says_what_to_set_and_hides_keys() -> None:
    providers = create_providers(settings(openai_api_key=SecretStr("sk-secret-123")))
    statuses = {s.provider: s for s in providers.describe()}

    assert statuses["openai"].location == "api.openai.com"
    assert "ANTHROPIC_API_KEY" in statuses["anthropic"].detail
    assert "gpt-4o-mini → gpt-4o-mini" in statuses["azure"].detail
    assert all("sk-secret-123" not in s.detail + s.location for s in statuses.values())


def test_sdk_retries_are_off_for_real_and_simulated_clients() -> None:
    providers = create_providers(settings(openai_api_key=SecretStr("sk-real")))

    clients = [p.client for p in providers.by_name.values()]  # type: ignore[attr-defined]

    assert [c.max_retries for c in clients] == [0, 0, 0]


def test_instrumentation_callables_see_every_client() -> None:
    seen: list[str] = []

    def mark(kind: str) -> Any:
        def instrument(client: Any) -> Any:
            seen.append(f"{kind}:{type(client).__name__}")
            return client

        return instrument

    create_providers(
        settings(), instrument_openai=mark("openai"), instrument_anthropic=mark("anthropic")
    )

    assert sorted(seen) == [
        "anthropic:Anthropic",
        "anthropic:AsyncAnthropic",
        "openai:AsyncAzureOpenAI",
        "openai:AsyncOpenAI",
        "openai:AzureOpenAI",
        "openai:OpenAI",
    ]


def test_simulated_providers_answer_through_the_real_sdks_and_share_faults() -> None:
    faults = FaultPlan(seed=1)
    recorder = RequestRecorder()
    providers = create_providers(settings(), faults=faults, recorder=recorder)
    faults.add(Fault(FaultKind.RATE_LIMIT, provider="anthropic", times=1, retry_after_s=2))
    request = ChatRequest("claude-3-5-haiku", [ChatMessage("user", "What is your return policy?")])

    with pytest.raises(RateLimited) as caught:
        providers.get("anthropic").chat(request)
    reply = providers.get("anthropic").chat(request)
    azure = providers.get("azure").chat(ChatRequest("gpt-4o-mini", request.messages))

    assert caught.value.retry_after_s == 2.0
    assert isinstance(reply, ChatResponse) and reply.simulated and reply.text
    assert (azure.provider, azure.simulated) == ("azure", True)
    assert any("/openai/deployments/gpt-4o-mini/" in r.path for r in recorder.requests)


async def test_async_chat_and_stream_work_on_the_simulator() -> None:
    providers = create_providers(settings())
    request = ChatRequest("gpt-4o-mini", [ChatMessage("user", "Hello there")])

    reply = await providers.get("openai").achat(request)
    items = [
        item
        async for item in providers.get("anthropic").astream(
            ChatRequest("claude-3-5-haiku", request.messages)
        )
    ]

    assert reply.text and reply.output_tokens > 0
    final = items[-1]
    assert isinstance(final, ChatResponse)
    assert final.text == "".join(getattr(i, "text", "") for i in items[:-1])
    assert final.output_tokens > 0
