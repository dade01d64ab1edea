"""Slow primary → timeout → fallback, through the real SDKs and adapters over the simulator."""

from __future__ import annotations

import pytest

from core.providers.base import ChatChunk, ChatMessage, ChatRequest
from core.providers.factory import ProviderSet, create_providers
from core.router import RoutedResponse, Router
from core.settings import ProviderSettings, RouterSettings, Settings
from core.simulator import Fault, FaultKind, FaultPlan
from tests.core.router.conftest import FakeClock

ROUTE = ["gpt-4o-mini", "claude-haiku-4-5"]
REQUEST = ChatRequest("gpt-4o-mini", [ChatMessage("user", "Hello there!")])
EXPECTED = [
    ("gpt-4o-mini", "failed", "timeout"),
    ("gpt-4o-mini", "failed", "timeout"),
    ("claude-haiku-4-5", "ok", None),
]


@pytest.fixture
def faults() -> FaultPlan:
    return FaultPlan(seed=1).add(Fault(FaultKind.SLOW, provider="openai", delay_s=5))


@pytest.fixture
def providers(faults: FaultPlan) -> ProviderSet:
    simulated = ProviderSettings(
        openai_api_key=None,
        anthropic_api_key=None,
        azure_openai_api_key=None,
        simulator_speed=0.0,
        request_timeout_s=2.0,
    )
    return create_providers(Settings(providers=simulated), faults=faults)


def make_router(providers: ProviderSet, clock: FakeClock) -> Router:
    settings = RouterSettings(max_attempts_per_model=2, backoff_base_s=0.5)
    return Router(providers.by_name, settings, clock=clock, sleep=clock.sleep, random=lambda: 0.5)


def test_a_slow_primary_times_out_and_the_next_model_answers(providers: ProviderSet) -> None:
    clock = FakeClock()

    routed = make_router(providers, clock).chat(REQUEST, ROUTE)

    assert [(a.model, a.outcome, a.reason) for a in routed.attempts] == EXPECTED
    assert [a.error_type for a in routed.attempts[:2]] == ["ProviderTimeout"] * 2
    assert routed.response.provider == "anthropic" and routed.response.text
    assert clock.sleeps == [0.375]  # one backoff between the two timed-out attempts


def test_a_slow_primary_stream_times_out_and_the_next_model_streams(
    providers: ProviderSet,
) -> None:
    items = list(make_router(providers, FakeClock()).stream(REQUEST, ROUTE))

    final = items[-1]
    assert isinstance(final, RoutedResponse)
    assert [(a.model, a.outcome, a.reason) for a in final.attempts] == EXPECTED
    streamed = "".join(item.text for item in items if isinstance(item, ChatChunk))
    assert streamed == final.response.text != ""
