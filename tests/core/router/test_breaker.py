"""Breakers per provider and model: closed → open → half-open → closed (or open again)."""

from __future__ import annotations

import pytest

from core.errors import ProviderError
from core.providers.base import ChatMessage, ChatRequest
from core.providers.errors import (
    AuthenticationFailed,
    BadRequest,
    MalformedResponse,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    UnknownModel,
)
from core.router import BreakerState, CircuitBreaker
from tests.core.router.conftest import FakeClock, Harness

ROUTE = ["gpt-4", "claude-3-sonnet"]
REQUEST = ChatRequest("gpt-4", [ChatMessage("user", "Hi")])


def test_breaker_opens_after_threshold_then_half_opens_and_closes_on_success(
    harness: Harness,
) -> None:
    openai = harness.provider("openai", gpt_4=[ProviderUnavailable("500")] * 3 + ["Back again."])
    router = harness.router(openai, harness.provider("anthropic"), max_attempts_per_model=1)

    for _ in range(3):
        router.chat(REQUEST, ROUTE)
    assert router.breaker_states()["openai:gpt-4"] is BreakerState.OPEN

    skipped = router.chat(REQUEST, ROUTE)
    first = skipped.attempts[0]
    assert (first.model, first.outcome, first.reason) == ("gpt-4", "skipped", "circuit_open")
    assert openai.calls == ["gpt-4"] * 3  # the open breaker kept the call away

    harness.clock.now += 30
    assert router.breaker_states()["openai:gpt-4"] is BreakerState.HALF_OPEN

    trial = router.chat(REQUEST, ROUTE)
    assert trial.response.text == "Back again."
    assert router.breaker_states() == {
        "anthropic:claude-3-sonnet": BreakerState.CLOSED,
        "openai:gpt-4": BreakerState.CLOSED,
    }


def test_a_failed_trial_opens_the_breaker_for_another_period() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=2, reset_s=10, clock=clock)
    breaker.record_failure()
    breaker.record_failure()
    clock.now += 10

    assert breaker.allow()  # the one trial call
    assert not breaker.allow()  # no second call while the trial runs
    breaker.record_failure()

    assert breaker.state is BreakerState.OPEN
    assert breaker.snapshot().reopens_in_s == 10
    clock.now += 10
    assert breaker.state is BreakerState.HALF_OPEN


def test_a_success_resets_the_failure_count() -> None:
    breaker = CircuitBreaker(failure_threshold=3, reset_s=10, clock=FakeClock())
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    breaker.record_failure()

    assert breaker.state is BreakerState.CLOSED
    assert breaker.snapshot().consecutive_failures == 2


def test_retries_stop_once_the_breaker_opens(harness: Harness) -> None:
    openai = harness.provider("openai", gpt_4=[ProviderUnavailable("500")])
    router = harness.router(
        openai, harness.provider("anthropic"), max_attempts_per_model=5, breaker_failure_threshold=2
    )

    routed = router.chat(REQUEST, ROUTE)

    assert openai.calls == ["gpt-4", "gpt-4"]
    assert routed.attempts[-1].model == "claude-3-sonnet"


def test_a_half_open_trial_stream_closed_early_lets_the_next_trial_through(
    harness: Harness,
) -> None:
    openai = harness.provider("openai", gpt_4=[ProviderUnavailable("500")] * 3 + ["a b c"])
    router = harness.router(openai, harness.provider("anthropic"), max_attempts_per_model=1)
    for _ in range(3):
        router.chat(REQUEST, ROUTE)
    harness.clock.now += 30

    stream = router.stream(REQUEST, ROUTE)
    next(stream)
    stream.close()
    routed = router.chat(REQUEST, ROUTE)

    assert routed.attempts[0].outcome == "ok"
    assert openai.calls[-2:] == ["gpt-4", "gpt-4"]


@pytest.mark.parametrize(
    "error",
    [
        AuthenticationFailed("401: the key was refused"),
        AuthenticationFailed("403: no access to this model"),
        BadRequest("context too long"),
        UnknownModel("404: no such model"),
    ],
    ids=["401", "403", "bad-request", "not-found"],
)
def test_a_callers_4xx_never_trips_the_breaker(harness: Harness, error: ProviderError) -> None:
    openai = harness.provider("openai", gpt_4=[error])
    anthropic = harness.provider("anthropic", claude_3_sonnet=["Claude answers."])
    router = harness.router(openai, anthropic, breaker_failure_threshold=3)

    answers = [router.chat(REQUEST, ROUTE) for _ in range(5)]

    assert [a.response.text for a in answers] == ["Claude answers."] * 5
    assert openai.calls == ["gpt-4"] * 5  # tried every time, never retried, never shut out
    snapshot = router.breaker_snapshots()["openai:gpt-4"]
    assert (snapshot.state, snapshot.consecutive_failures) == (BreakerState.CLOSED, 0)


@pytest.mark.parametrize(
    "error",
    [
        RateLimited("429", retry_after_s=60),
        ProviderUnavailable("503"),
        ProviderTimeout("slow"),
        MalformedResponse("not JSON"),
    ],
    ids=["429", "5xx", "timeout", "malformed"],
)
def test_provider_failures_open_the_breaker(harness: Harness, error: ProviderError) -> None:
    openai = harness.provider("openai", gpt_4=[error])
    router = harness.router(
        openai, harness.provider("anthropic"), max_attempts_per_model=1, breaker_failure_threshold=3
    )

    for _ in range(3):
        router.chat(REQUEST, ROUTE)

    assert router.breaker_states()["openai:gpt-4"] is BreakerState.OPEN
