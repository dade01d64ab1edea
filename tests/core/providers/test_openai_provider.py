"""The OpenAI adapter against hand-built chat-completions exchanges (no network)."""

from __future__ import annotations

import httpx2
import pytest

from core.providers.base import (
    ChatChunk,
    ChatMessage,
    ChatRequest,
    ChatResponse,
    ToolCall,
    ToolSpec,
)
from core.providers.errors import (
    AuthenticationFailed,
    BadRequest,
    MalformedResponse,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    UnknownModel,
)
from core.providers.openai_provider import OpenAIChatProvider
from tests.core.providers.wire import (
    Exchange,
    chunk,
    completion,
    error_answer,
    json_answer,
    openai_client,
    sse_answer,
)

ORDER_TOOL = ToolSpec(
    "get_order_status",
    "Look up an order by number.",
    {"type": "object", "properties": {"order_number": {"type": "string"}}},
)


def provider(*answers: httpx2.Response | Exception) -> tuple[OpenAIChatProvider, Exchange]:
    exchange = Exchange(list(answers))
    return OpenAIChatProvider(openai_client(exchange), simulated=False), exchange


def ask(text: str = "Where is ORD-10001?", **options: object) -> ChatRequest:
    return ChatRequest(model="gpt-4o-mini", messages=[ChatMessage("user", text)], **options)  # type: ignore[arg-type]


def test_chat_returns_text_and_the_providers_usage() -> None:
    openai, exchange = provider(json_answer(completion("It ships today.", usage=(120, 9, 100))))

    reply = openai.chat(ask(temperature=0.2, max_tokens=50))

    assert reply == ChatResponse(
        text="It ships today.",
        tool_calls=[],
        model="gpt-4o-mini-2024-07-18",
        provider="openai",
        input_tokens=120,
        output_tokens=9,
        cached_input_tokens=100,
        finish_reason="stop",
        simulated=False,
    )
    body = exchange.body()
    assert exchange.requests[0].url.path == "/v1/chat/completions"
    assert body["model"] == "gpt-4o-mini"
    assert (body["temperature"], body["max_tokens"]) == (0.2, 50)
    assert "stream" not in body


def test_tools_and_tool_results_are_sent_and_tool_calls_parsed() -> None:
    call = {
        "id": "call_7",
        "type": "function",
        "function": {"name": "get_order_status", "arguments": '{"order_number": "ORD-10001"}'},
    }
    openai, exchange = provider(
        json_answer(completion(None, tool_calls=[call], finish_reason="tool_calls"))
    )
    history = [
        ChatMessage("system", "Be kind."),
        ChatMessage("user", "Where is ORD-10000?"),
        ChatMessage("assistant", "", tool_calls=[ToolCall("call_1", "get_order_status", {"n": 1})]),
        ChatMessage("tool", '{"status": "delivered"}', tool_call_id="call_1"),
        ChatMessage("user", "And ORD-10001?"),
    ]

    reply = openai.chat(ChatRequest("gpt-4o-mini", history, tools=[ORDER_TOOL]))

    assert reply.tool_calls == [
        ToolCall("call_7", "get_order_status", {"order_number": "ORD-10001"})
    ]
    assert reply.finish_reason == "tool_calls"
    body = exchange.body()
    assert body["tools"][0]["function"]["name"] == "get_order_status"
    assert body["messages"][2]["tool_calls"][0]["function"]["arguments"] == '{"n": 1}'
    assert body["messages"][2]["content"] is None
    assert body["messages"][3] == {
        "role": "tool",
        "tool_call_id": "call_1",
        "content": '{"status": "delivered"}',
    }


def test_response_format_is_passed_through() -> None:
    openai, exchange = provider(json_answer(completion('{"intent": "refund"}')))
    schema = {"type": "json_schema", "json_schema": {"name": "triage", "schema": {}}}

    openai.chat(ask(response_format=schema))

    assert exchange.body()["response_format"] == schema


def test_stream_yields_text_then_a_response_with_usage_from_the_last_chunk() -> None:
    openai, exchange = provider(
        sse_answer(
            [
                chunk({"role": "assistant", "content": ""}),
                chunk({"content": "Your order "}),
                chunk({"content": "shipped."}, finish="stop"),
                chunk(
                    None, usage={"prompt_tokens": 30, "completion_tokens": 4, "total_tokens": 34}
                ),
                (None, "[DONE]"),
            ]
        )
    )

    items = list(openai.stream(ask()))

    assert items[:2] == [ChatChunk("Your order "), ChatChunk("shipped.")]
    final = items[-1]
    assert isinstance(final, ChatResponse)
    assert (final.text, final.input_tokens, final.output_tokens) == ("Your order shipped.", 30, 4)
    body = exchange.body()
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}


def test_stream_assembles_tool_calls_split_over_chunks() -> None:
    first = {
        "index": 0,
        "id": "call_9",
        "type": "function",
        "function": {"name": "get_order_status", "arguments": '{"order_'},
    }
    rest = {"index": 0, "function": {"arguments": 'number": "ORD-10002"}'}}
    openai, _ = provider(
        sse_answer(
            [
                chunk({"role": "assistant", "tool_calls": [first]}),
                chunk({"tool_calls": [rest]}, finish="tool_calls"),
                chunk(None, usage={"prompt_tokens": 5, "completion_tokens": 6, "total_tokens": 11}),
                (None, "[DONE]"),
            ]
        )
    )

    *_, final = openai.stream(ask(tools=[ORDER_TOOL]))

    assert isinstance(final, ChatResponse)
    assert final.tool_calls == [
        ToolCall("call_9", "get_order_status", {"order_number": "ORD-10002"})
    ]
    assert final.finish_reason == "tool_calls"


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [({"retry-after": "7"}, 7.0), ({"retry-after-ms": "1500"}, 1.5), ({}, None)],
)
def test_429_is_rate_limited_with_retry_after(
    headers: dict[str, str], seconds: float | None
) -> None:
    openai, exchange = provider(error_answer(429, "slow down", **headers))

    with pytest.raises(RateLimited) as caught:
        openai.chat(ask())

    assert caught.value.retry_after_s == seconds
    assert len(exchange.requests) == 1  # the SDK did not retry on its own


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (500, ProviderUnavailable),
        (503, ProviderUnavailable),
        (401, AuthenticationFailed),
        (403, AuthenticationFailed),
        (400, BadRequest),
        (422, BadRequest),
        (404, UnknownModel),
    ],
)
def test_http_errors_map_to_our_types(status: int, error: type[Exception]) -> None:
    openai, _ = provider(error_answer(status, "upstream said no"))

    with pytest.raises(error, match="OpenAI \\(gpt-4o-mini\\)"):
        openai.chat(ask())


def test_timeout_is_provider_timeout() -> None:
    openai, _ = provider(httpx2.ReadTimeout("too slow"))

    with pytest.raises(ProviderTimeout, match="did not answer in time"):
        openai.chat(ask())


def test_connection_failure_is_provider_unavailable() -> None:
    openai, _ = provider(httpx2.ConnectError("refused"))

    with pytest.raises(ProviderUnavailable):
        openai.chat(ask())


def test_error_before_the_first_chunk_of_a_stream_is_mapped() -> None:
    openai, _ = provider(error_answer(429, "busy", **{"retry-after": "3"}))

    with pytest.raises(RateLimited) as caught:
        list(openai.stream(ask()))

    assert caught.value.retry_after_s == 3.0


def test_tool_arguments_that_are_not_json_are_malformed() -> None:
    call = {"id": "c", "type": "function", "function": {"name": "x", "arguments": "{oops"}}
    openai, _ = provider(json_answer(completion(None, tool_calls=[call])))

    with pytest.raises(MalformedResponse, match="not JSON"):
        openai.chat(ask())


def test_unreadable_body_is_malformed() -> None:
    openai, _ = provider(
        httpx2.Response(200, content=b"<html>", headers={"content-type": "application/json"})
    )

    with pytest.raises(MalformedResponse):
        openai.chat(ask())


def test_a_model_of_another_provider_is_refused_before_any_request() -> None:
    openai, exchange = provider()

    with pytest.raises(UnknownModel, match="anthropic"):
        openai.chat(ChatRequest("claude-3-opus", [ChatMessage("user", "hi")]))

    assert exchange.requests == []


def test_embeddings_keep_input_order() -> None:
    data = [
        {"object": "embedding", "index": 1, "embedding": [0.0, 1.0]},
        {"object": "embedding", "index": 0, "embedding": [1.0, 0.0]},
    ]
    openai, exchange = provider(
        json_answer(
            {
                "object": "list",
                "data": data,
                "model": "text-embedding-3-small",
                "usage": {"prompt_tokens": 6, "total_tokens": 6},
            }
        )
    )

    result = openai.embed(["first", "second"], "text-embedding-3-small")

    assert result.vectors == [[1.0, 0.0], [0.0, 1.0]]
    assert result.input_tokens == 6
    assert exchange.body()["input"] == ["first", "second"]
