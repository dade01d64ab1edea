"""Azure OpenAI: deployments in the URL, models in the answer, deployments mapped from settings."""

from __future__ import annotations

import httpx2
import openai
import pytest

from core.providers.azure_provider import AzureChatProvider, resolve_deployments
from core.providers.base import ChatChunk, ChatMessage, ChatRequest, ChatResponse
from core.providers.errors import RateLimited, UnknownModel
from tests.core.providers.wire import (
    Exchange,
    chunk,
    completion,
    error_answer,
    json_answer,
    sse_answer,
)

API_VERSION = "2024-10-21"


def azure(
    *answers: httpx2.Response, deployments: dict[str, str] | None = None
) -> tuple[AzureChatProvider, Exchange]:
    exchange = Exchange(list(answers))
    client = openai.AzureOpenAI(
        api_key="azure-test",
        api_version=API_VERSION,
        azure_endpoint="https://northwind.openai.azure.test",
        max_retries=0,
        http_client=httpx2.Client(transport=exchange.transport()),
    )
    mapping = resolve_deployments(deployments or {"support-4o": "gpt-4o"})
    return AzureChatProvider(client, simulated=False, deployments=mapping), exchange


def ask(model: str) -> ChatRequest:
    return ChatRequest(model=model, messages=[ChatMessage("user", "Hello")])


def test_a_model_is_sent_to_its_deployment_and_priced_by_the_answering_model() -> None:
    provider, exchange = azure(json_answer(completion("Hi!", model="gpt-4o-2024-08-06")))

    reply = provider.chat(ask("gpt-4o"))

    url = exchange.requests[0].url
    assert url.path == "/openai/deployments/support-4o/chat/completions"
    assert url.params["api-version"] == API_VERSION
    assert exchange.requests[0].headers["api-key"] == "azure-test"
    assert (reply.provider, reply.model) == ("azure", "gpt-4o-2024-08-06")


def test_a_deployment_name_may_be_used_directly() -> None:
    provider, exchange = azure(json_answer(completion("Hi!")))

    provider.chat(ask("support-4o"))

    assert exchange.requests[0].url.path == "/openai/deployments/support-4o/chat/completions"


def test_a_model_without_deployment_is_unknown_and_not_served() -> None:
    provider, exchange = azure()

    assert not provider.serves("gpt-3.5-turbo")
    with pytest.raises(UnknownModel, match=r"No Azure deployment serves gpt-3\.5-turbo"):
        provider.chat(ask("gpt-3.5-turbo"))
    assert exchange.requests == []


def test_stream_through_a_deployment_carries_usage() -> None:
    provider, exchange = azure(
        sse_answer(
            [
                chunk(None),  # Azure's first chunk: prompt filter results, no choices
                chunk({"content": "Hi"}, finish="stop"),
                chunk(None, usage={"prompt_tokens": 8, "completion_tokens": 1, "total_tokens": 9}),
                (None, "[DONE]"),
            ]
        )
    )

    items = list(provider.stream(ask("gpt-4o")))

    assert items[0] == ChatChunk("Hi")
    assert isinstance(items[-1], ChatResponse)
    assert (items[-1].input_tokens, items[-1].output_tokens) == (8, 1)
    assert "/openai/deployments/support-4o/" in exchange.requests[0].url.path


def test_azure_rate_limit_is_mapped() -> None:
    provider, _ = azure(error_answer(429, "quota", **{"retry-after": "12"}))

    with pytest.raises(RateLimited, match="Azure OpenAI") as caught:
        provider.chat(ask("gpt-4o"))

    assert caught.value.retry_after_s == 12.0


def test_empty_deployment_map_defaults_to_one_deployment_per_openai_model() -> None:
    mapping = resolve_deployments({})

    assert mapping["gpt-4o-mini"] == "gpt-4o-mini"
    assert mapping["gpt-3.5-turbo"] == "gpt-3.5-turbo"
    assert not any(name.startswith("claude") for name in mapping)


def test_a_deployment_naming_a_claude_model_is_refused() -> None:
    with pytest.raises(UnknownModel, match="not an OpenAI model"):
        resolve_deployments({"claude": "claude-3-opus"})
