"""The fault plan: armed for calls or for a time on the app clock, listed with what is left,
cleared one at a time or all at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.faults import Fault, FaultKind, FaultPlan
from observability.clock import simulated_clock

START = datetime(2026, 12, 7, 22, 0, tzinfo=UTC)
GPT = frozenset({"gpt-4o"})


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def test_a_fault_for_minutes_fires_until_its_time_is_up() -> None:
    clock = Clock()
    plan = FaultPlan(clock=clock)
    plan.add(Fault(FaultKind.SERVER_ERROR, provider="openai", for_s=120))

    assert plan.draw("openai", GPT).failure is not None
    clock.now += timedelta(seconds=90)
    assert plan.pending()[0].left() == "30 s"
    assert plan.draw("openai", GPT).failure is not None
    clock.now += timedelta(seconds=31)
    assert plan.draw("openai", GPT).failure is None
    assert plan.pending() == []


def test_calls_and_time_end_it_whichever_comes_first() -> None:
    clock = Clock()
    plan = FaultPlan(clock=clock)
    armed = plan.arm(Fault(FaultKind.RATE_LIMIT, times=2, for_s=300))

    assert armed.left() == "2 calls or 5 min"
    assert armed.describe() == (
        "rate_limit · any provider/any model · next 2 calls for 5 min (2 calls or 5 min left)"
    )
    plan.draw("anthropic", frozenset({"claude-haiku-4-5"}))
    clock.now += timedelta(seconds=50)
    assert plan.pending()[0].left() == "1 call or 4 min 10 s"
    plan.draw("openai", GPT)
    assert plan.pending() == []


def test_until_a_time() -> None:
    clock = Clock()
    plan = FaultPlan(clock=clock)
    plan.add(Fault(FaultKind.TIMEOUT, until=START + timedelta(hours=1, minutes=5)))

    assert plan.pending()[0].left() == "1 h 5 min"
    assert "until 23:05:00 UTC" in plan.pending()[0].describe()
    clock.now += timedelta(hours=2)
    assert plan.draw("openai", GPT).failure is None


def test_the_default_clock_is_the_apps_so_simulated_time_counts() -> None:
    plan = FaultPlan()
    with simulated_clock(START) as clock:
        plan.add(Fault(FaultKind.SLOW, for_s=60, delay_s=2))
        assert plan.draw("openai", GPT).extra_delay_s == 2
        clock.advance(61)
        assert plan.draw("openai", GPT).extra_delay_s == 0


def test_disarm_one_by_id_and_clear_the_rest() -> None:
    plan = FaultPlan()
    first = plan.arm(Fault(FaultKind.RATE_LIMIT, provider="openai", times=2))
    second = plan.arm(Fault(FaultKind.STREAM_CUT, provider="anthropic"))
    third = plan.arm(Fault(FaultKind.SLOW, delay_s=3))

    assert [first.id, second.id, third.id] == sorted({first.id, second.id, third.id})
    removed = plan.disarm(second.id)
    assert removed is not None and removed.fault.kind is FaultKind.STREAM_CUT
    assert plan.disarm(second.id) is None
    assert [p.id for p in plan.pending()] == [first.id, third.id]
    assert [p.fault.kind for p in plan.clear()] == [FaultKind.RATE_LIMIT, FaultKind.SLOW]
    assert plan.pending() == []


def test_pending_counts_firings() -> None:
    plan = FaultPlan()
    plan.add(Fault(FaultKind.SERVER_ERROR, provider="openai"))
    for _ in range(3):
        plan.draw("openai", GPT)
    plan.draw("anthropic", GPT)

    (pending,) = plan.pending()
    assert pending.fired == 3
    assert pending.left() == "until cleared"


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"for_s": 0}, "for_s"),
        ({"until": datetime(2026, 12, 7, 23, 0)}, "aware"),
        ({"retry_after_s": -1}, "negative"),
        ({"kind": FaultKind.SERVER_ERROR, "status_code": 429}, "500 and 599"),
    ],
)
def test_invalid_settings_are_refused(options: dict, words: str) -> None:
    kind = options.pop("kind", FaultKind.RATE_LIMIT)
    with pytest.raises(ValueError, match=words):
        Fault(kind, **options)
