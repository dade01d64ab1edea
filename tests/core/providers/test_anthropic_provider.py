"""The Anthropic adapter against hand-built messages exchanges (no network)."""

from __future__ import annotations

import httpx2
import pytest

from core.providers.anthropic_provider import AnthropicChatProvider
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
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    UnknownModel,
)
from tests.core.providers.wire import (
    Exchange,
    anthropic_client,
    error_answer,
    json_answer,
    message,
    sse_answer,
)

ORDER_TOOL = ToolSpec("get_order_status", "Look up an order.", {"type": "object"})


def provider(*answers: httpx2.Response | Exception) -> tuple[AnthropicChatProvider, Exchange]:
    exchange = Exchange(list(answers))
    return AnthropicChatProvider(anthropic_client(exchange), simulated=False), exchange


def ask(*messages: ChatMessage, **options: object) -> ChatRequest:
    history = list(messages) or [ChatMessage("user", "Hi")]
    return ChatRequest("claude-3-5-haiku", history, **options)  # type: ignore[arg-type]


def test_chat_sends_the_api_id_and_system_and_counts_cached_input() -> None:
    usage = {
        "input_tokens": 20,
        "output_tokens": 7,
        "cache_read_input_tokens": 1000,
        "cache_creation_input_tokens": 50,
    }
    claude, exchange = provider(
        json_answer(message([{"type": "text", "text": "Hello!"}], usage=usage))
    )

    reply = claude.chat(ask(ChatMessage("system", "Be brief."), ChatMessage("user", "Hi")))

    assert reply == ChatResponse(
        text="Hello!",
        tool_calls=[],
        model="claude-3-5-haiku-20241022",
        provider="anthropic",
        input_tokens=1070,
        output_tokens=7,
        cached_input_tokens=1000,
        finish_reason="stop",
        simulated=False,
        cache_creation_input_tokens=50,
    )
    body = exchange.body()
    assert exchange.requests[0].url.path == "/v1/messages"
    assert body["model"] == "claude-3-5-haiku-20241022"
    assert body["system"] == "Be brief."
    assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]
    assert body["max_tokens"] == 1024


def test_tool_use_round_trip() -> None:
    claude, exchange = provider(
        json_answer(
            message(
                [
                    {"type": "text", "text": "Checking."},
                    {
                        "type": "tool_use",
                        "id": "toolu_2",
                        "name": "get_order_status",
                        "input": {"order_number": "ORD-10002"},
                    },
                ],
                stop_reason="tool_use",
            )
        )
    )
    history = [
        ChatMessage("user", "Where are ORD-10001 and ORD-10002?"),
        ChatMessage("assistant", "", tool_calls=[ToolCall("toolu_1", "get_order_status", {})]),
        ChatMessage("tool", "delivered", tool_call_id="toolu_1"),
    ]

    reply = claude.chat(ask(*history, tools=[ORDER_TOOL]))

    assert reply.text == "Checking."
    assert reply.tool_calls == [
        ToolCall("toolu_2", "get_order_status", {"order_number": "ORD-10002"})
    ]
    assert reply.finish_reason == "tool_calls"
    body = exchange.body()
    assert body["tools"] == [
        {
            "name": "get_order_status",
            "description": "Look up an order.",
            "input_schema": {"type": "object"},
        }
    ]
    assert body["messages"][1]["content"] == [
        {"type": "tool_use", "id": "toolu_1", "name": "get_order_status", "input": {}}
    ]
    assert body["messages"][2] == {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "delivered"}],
    }


def test_json_schema_becomes_a_forced_tool_answered_as_json_text() -> None:
    claude, exchange = provider(
        json_answer(
            message(
                [{"type": "tool_use", "id": "t", "name": "triage", "input": {"intent": "refund"}}],
                stop_reason="tool_use",
            )
        )
    )
    schema = {"type": "object", "properties": {"intent": {"type": "string"}}}
    response_format = {"type": "json_schema", "json_schema": {"name": "triage", "schema": schema}}

    reply = claude.chat(ask(response_format=response_format))

    assert reply.text == '{"intent": "refund"}'
    assert reply.tool_calls == []
    assert reply.finish_reason == "stop"
    body = exchange.body()
    assert body["tool_choice"] == {"type": "tool", "name": "triage"}
    assert body["tools"][0]["input_schema"] == schema


def _events(*deltas: dict[str, object], blocks: list[dict[str, object]]) -> httpx2.Response:
    start = message(
        [], usage={"input_tokens": 40, "output_tokens": 1, "cache_read_input_tokens": 30}
    )
    events: list[tuple[str | None, dict[str, object] | str]] = [
        ("message_start", {"type": "message_start", "message": start})
    ]
    for index, block in enumerate(blocks):
        events.append(
            (
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": block},
            )
        )
    events += [("content_block_delta", {"type": "content_block_delta", **d}) for d in deltas]
    events += [
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {
                    "stop_reason": "tool_use" if len(blocks) > 1 else "end_turn",
                    "stop_sequence": None,
                },
                "usage": {"output_tokens": 12},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    return sse_answer(events)


def test_stream_yields_text_and_ends_with_usage_and_tool_calls() -> None:
    claude, exchange = provider(
        _events(
            {"index": 0, "delta": {"type": "text_delta", "text": "Let me "}},
            {"index": 0, "delta": {"type": "text_delta", "text": "check."}},
            {"index": 1, "delta": {"type": "input_json_delta", "partial_json": '{"order_'}},
            {
                "index": 1,
                "delta": {"type": "input_json_delta", "partial_json": 'number": "ORD-10003"}'},
            },
            blocks=[
                {"type": "text", "text": ""},
                {"type": "tool_use", "id": "toolu_3", "name": "get_order_status", "input": {}},
            ],
        )
    )

    items = list(claude.stream(ask(tools=[ORDER_TOOL])))

    assert items[:2] == [ChatChunk("Let me "), ChatChunk("check.")]
    final = items[-1]
    assert isinstance(final, ChatResponse)
    assert final.text == "Let me check."
    assert final.tool_calls == [
        ToolCall("toolu_3", "get_order_status", {"order_number": "ORD-10003"})
    ]
    assert (final.input_tokens, final.cached_input_tokens, final.output_tokens) == (70, 30, 12)
    assert exchange.body()["stream"] is True


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (500, ProviderUnavailable),
        (529, ProviderUnavailable),
        (401, AuthenticationFailed),
        (403, AuthenticationFailed),
        (400, BadRequest),
        (404, UnknownModel),
    ],
)
def test_http_errors_map_to_our_types(status: int, error: type[Exception]) -> None:
    claude, _ = provider(error_answer(status))

    with pytest.raises(error, match="Anthropic"):
        claude.chat(ask())


def test_429_carries_retry_after_and_is_sent_once() -> None:
    claude, exchange = provider(error_answer(429, **{"retry-after": "4"}))

    with pytest.raises(RateLimited) as caught:
        claude.chat(ask())

    assert caught.value.retry_after_s == 4.0
    assert len(exchange.requests) == 1


def test_timeout_is_provider_timeout() -> None:
    claude, _ = provider(httpx2.ReadTimeout("slow"))

    with pytest.raises(ProviderTimeout):
        claude.chat(ask())


def test_embeddings_are_refused_with_a_sentence() -> None:
    claude, _ = provider()

    with pytest.raises(BadRequest, match="no embedding model"):
        claude.embed(["x"], "text-embedding-3-small")
