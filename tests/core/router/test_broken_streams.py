"""A stream is an answer only when it says it finished: a 200 stream without choices, or one
that ends cleanly partway (no finish reason, no usage, no ``[DONE]``), is the provider's failure
— retried or fallen back like any other, and counted against its breaker."""

from __future__ import annotations

import pytest

from core.providers.anthropic_provider import AnthropicChatProvider
from core.providers.base import ChatChunk, ChatMessage, ChatRequest
from core.providers.errors import MalformedResponse
from core.providers.openai_provider import OpenAIChatProvider
from core.router import RoutedResponse
from tests.core.providers.wire import (
    Exchange,
    anthropic_client,
    chunk,
    openai_client,
    sse_answer,
)
from tests.core.router.conftest import Harness

USAGE = {"prompt_tokens": 30, "completion_tokens": 4, "total_tokens": 34}
NO_CHOICES = sse_answer([chunk(None, usage=USAGE), (None, "[DONE]")])
CUT_OFF = sse_answer(
    [chunk({"role": "assistant", "content": ""}), chunk({"content": "Thanks for "})]
)
WHOLE = sse_answer(
    [
        chunk({"content": "Your order shipped."}, finish="stop"),
        chunk(None, usage=USAGE),
        (None, "[DONE]"),
    ]
)


def ask() -> ChatRequest:
    return ChatRequest(model="gpt-4o-mini", messages=[ChatMessage("user", "Where is my order?")])


def openai(*answers: object) -> OpenAIChatProvider:
    exchange = Exchange(list(answers))  # type: ignore[arg-type]
    return OpenAIChatProvider(openai_client(exchange), simulated=False)


def test_a_stream_without_choices_is_a_failure_that_falls_back(harness: Harness) -> None:
    router = harness.router(openai(NO_CHOICES, WHOLE), max_attempts_per_model=1)

    items = list(router.stream(ask(), ["gpt-4o-mini", "gpt-4o"]))

    routed = items[-1]
    assert isinstance(routed, RoutedResponse)
    assert routed.response.text == "Your order shipped."
    assert [(a.model, a.outcome, a.reason) for a in routed.attempts] == [
        ("gpt-4o-mini", "failed", "malformed_response"),
        ("gpt-4o", "ok", None),
    ]
    assert router.breaker_snapshots()["openai:gpt-4o-mini"].consecutive_failures == 1
    failed = next(
        s for s in harness.exporter.get_finished_spans() if s.name == "attempt gpt-4o-mini"
    )
    assert failed.attributes is not None
    assert failed.attributes["error.type"] == "MalformedResponse"


def test_a_stream_cut_off_cleanly_after_its_first_words_is_raised(harness: Harness) -> None:
    router = harness.router(openai(CUT_OFF, WHOLE), max_attempts_per_model=1)
    seen: list[str] = []

    with pytest.raises(MalformedResponse, match="before finishing"):
        for item in router.stream(ask(), ["gpt-4o-mini", "gpt-4o"]):
            if isinstance(item, ChatChunk):
                seen.append(item.text)

    assert seen == ["Thanks for "]
    assert router.breaker_snapshots()["openai:gpt-4o-mini"].consecutive_failures == 1


def test_an_anthropic_stream_without_a_stop_reason_is_malformed() -> None:
    events = [
        (
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": "msg_1",
                    "type": "message",
                    "role": "assistant",
                    "model": "claude-3-5-haiku-20241022",
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": 20, "output_tokens": 1},
                },
            },
        ),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        ),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": "Thanks for "},
            },
        ),
    ]
    claude = AnthropicChatProvider(
        anthropic_client(Exchange([sse_answer(events)])), simulated=False
    )
    request = ChatRequest("claude-3-5-haiku", [ChatMessage("user", "Hi")])

    with pytest.raises(MalformedResponse, match="before finishing"):
        list(claude.stream(request))


def test_a_failed_attempts_span_says_why_not_what_the_provider_wrote(harness: Harness) -> None:
    from tests.core.providers.wire import error_answer

    body = "org-Acme42 is over quota; key sk-live-77"
    router = harness.router(openai(error_answer(500, body), WHOLE), max_attempts_per_model=1)

    list(router.stream(ask(), ["gpt-4o-mini", "gpt-4o"]))

    failed = next(
        s for s in harness.exporter.get_finished_spans() if s.name == "attempt gpt-4o-mini"
    )
    assert failed.status.description == "ProviderUnavailable: server_error"
    assert "sk-live-77" not in str(failed.attributes) and "org-Acme42" not in str(failed.events)
