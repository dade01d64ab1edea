"""Retries, backoff timing, fallback order and what is never retried, with a fake clock."""

from __future__ import annotations

import pytest

from core.providers.base import ChatChunk, ChatMessage, ChatRequest
from core.providers.errors import (
    AllProvidersFailed,
    AuthenticationFailed,
    BadRequest,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
)
from core.router import RoutedResponse
from tests.core.router.conftest import Harness, MidStream

ROUTE = ["gpt-4", "claude-3-sonnet", "gpt-3.5-turbo"]
REQUEST = ChatRequest("gpt-4", [ChatMessage("user", "Where is ORD-10001?")])


def outcomes(routed: RoutedResponse) -> list[tuple[str, str, str | None]]:
    return [(a.model, a.outcome, a.reason) for a in routed.attempts]


def test_the_first_model_answers_in_one_attempt(harness: Harness) -> None:
    openai = harness.provider("openai", gpt_4=["On its way."])
    router = harness.router(openai, harness.provider("anthropic"))

    routed = router.chat(REQUEST, ROUTE)

    assert routed.response.text == "On its way."
    assert outcomes(routed) == [("gpt-4", "ok", None)]
    assert harness.clock.sleeps == []


def test_fallback_follows_the_route_in_order(harness: Harness) -> None:
    openai = harness.provider(
        "openai", gpt_4=[ProviderUnavailable("500")], gpt_3_5_turbo=["Cheap answer."]
    )
    anthropic = harness.provider(
        "anthropic", claude_3_sonnet=[RateLimited("429", retry_after_s=60)]
    )
    router = harness.router(openai, anthropic)

    routed = router.chat(REQUEST, ROUTE)

    assert routed.response.text == "Cheap answer."
    assert outcomes(routed) == [
        ("gpt-4", "failed", "server_error"),
        ("gpt-4", "failed", "server_error"),
        ("claude-3-sonnet", "failed", "rate_limited"),
        ("gpt-3.5-turbo", "ok", None),
    ]
    assert openai.calls == ["gpt-4", "gpt-4", "gpt-3.5-turbo"]
    # One backoff before gpt-4's retry; Retry-After 60 s exceeds backoff_max_s, so no wait.
    assert harness.clock.sleeps == [0.375]


def test_backoff_doubles_with_jitter_and_stops_at_the_ceiling(harness: Harness) -> None:
    error = ProviderTimeout("slow")
    openai = harness.provider("openai", gpt_4=[error, error, error, error, "Finally."])
    router = harness.router(
        openai, max_attempts_per_model=5, backoff_max_s=2.0, breaker_failure_threshold=10
    )

    routed = router.chat(REQUEST, ["gpt-4"])

    # min(2.0, 0.5·2^(n-1)) · (0.5 + 0.5·0.5)
    assert harness.clock.sleeps == [0.375, 0.75, 1.5, 1.5]
    assert [a.waited_s for a in routed.attempts] == [0.0, 0.375, 0.75, 1.5, 1.5]
    assert routed.attempts[0].reason == "timeout"


def test_retry_after_is_waited_exactly(harness: Harness) -> None:
    openai = harness.provider("openai", gpt_4=[RateLimited("429", retry_after_s=2.5), "Ok."])
    router = harness.router(openai)

    routed = router.chat(REQUEST, ["gpt-4"])

    assert harness.clock.sleeps == [2.5]
    assert outcomes(routed) == [("gpt-4", "failed", "rate_limited"), ("gpt-4", "ok", None)]


def test_bad_request_falls_back_without_retry(harness: Harness) -> None:
    openai = harness.provider("openai", gpt_4=[BadRequest("context too long")])
    anthropic = harness.provider("anthropic", claude_3_sonnet=["Claude has room."])
    router = harness.router(openai, anthropic)

    routed = router.chat(REQUEST, ROUTE)

    assert routed.response.text == "Claude has room."
    assert outcomes(routed) == [
        ("gpt-4", "failed", "bad_request"),
        ("claude-3-sonnet", "ok", None),
    ]
    assert openai.calls == ["gpt-4"]
    assert harness.clock.sleeps == []


def test_authentication_failure_is_not_retried_but_falls_back(harness: Harness) -> None:
    openai = harness.provider("openai", gpt_4=[AuthenticationFailed("bad key")])
    anthropic = harness.provider("anthropic", claude_3_sonnet=["Claude here."])
    router = harness.router(openai, anthropic)

    routed = router.chat(REQUEST, ROUTE)

    assert outcomes(routed) == [
        ("gpt-4", "failed", "authentication_failed"),
        ("claude-3-sonnet", "ok", None),
    ]
    assert openai.calls == ["gpt-4"]


def test_every_model_failing_raises_with_all_attempts(harness: Harness) -> None:
    down = ProviderUnavailable("503")
    openai = harness.provider("openai", gpt_4=[down], gpt_3_5_turbo=[down])
    anthropic = harness.provider("anthropic", claude_3_sonnet=[down])
    router = harness.router(openai, anthropic, max_attempts_per_model=1)

    with pytest.raises(AllProvidersFailed, match="gpt-4: server_error") as caught:
        router.chat(REQUEST, ROUTE)

    assert [a.model for a in caught.value.attempts] == ROUTE


def test_a_model_no_provider_serves_is_skipped(harness: Harness) -> None:
    anthropic = harness.provider("anthropic", claude_3_sonnet=["Hi."])
    router = harness.router(anthropic)  # no OpenAI provider at all

    routed = router.chat(REQUEST, ["gpt-4", "claude-3-sonnet"])

    assert outcomes(routed) == [
        ("gpt-4", "skipped", "unknown_model"),
        ("claude-3-sonnet", "ok", None),
    ]


def test_stream_falls_back_when_the_failure_comes_before_the_first_chunk(harness: Harness) -> None:
    openai = harness.provider("openai", gpt_4=[ProviderUnavailable("500")])
    anthropic = harness.provider("anthropic", claude_3_sonnet=["Hello from Claude."])
    router = harness.router(openai, anthropic, max_attempts_per_model=1)

    items = list(router.stream(REQUEST, ROUTE))

    assert "".join(i.text for i in items if isinstance(i, ChatChunk)) == "Hello from Claude. "
    final = items[-1]
    assert isinstance(final, RoutedResponse)
    assert outcomes(final) == [("gpt-4", "failed", "server_error"), ("claude-3-sonnet", "ok", None)]


def test_stream_failure_after_the_first_chunk_is_raised_not_retried(harness: Harness) -> None:
    openai = harness.provider("openai", gpt_4=[MidStream("Your ord", ProviderTimeout("cut"))])
    anthropic = harness.provider("anthropic")
    router = harness.router(openai, anthropic)
    received: list[object] = []

    with pytest.raises(ProviderTimeout):
        for item in router.stream(REQUEST, ROUTE):
            received.append(item)

    assert received == [ChatChunk("Your ord")]
    assert openai.calls == ["gpt-4"] and anthropic.calls == []


def test_stream_bad_request_falls_back_without_retry(harness: Harness) -> None:
    openai = harness.provider("openai", gpt_4=[BadRequest("nope")])
    anthropic = harness.provider("anthropic", claude_3_sonnet=["Streamed by Claude."])
    router = harness.router(openai, anthropic)

    final = list(router.stream(REQUEST, ROUTE))[-1]

    assert isinstance(final, RoutedResponse)
    assert outcomes(final) == [("gpt-4", "failed", "bad_request"), ("claude-3-sonnet", "ok", None)]
    assert openai.calls == ["gpt-4"]


def test_an_empty_route_is_the_callers_mistake(harness: Harness) -> None:
    router = harness.router(harness.provider("openai"))

    with pytest.raises(BadRequest, match="names no model"):
        router.chat(REQUEST, [])
