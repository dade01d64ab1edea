"""Demo controls in core: a form becomes an armed fault, or one sentence saying what is wrong;
every change is described in a sentence (what the audit log records)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.demo_faults import (
    DemoFault,
    FaultInputError,
    arm_demo_fault,
    clear_all_demo_faults,
    clear_demo_fault,
    fault_targets,
    list_armed_faults,
)
from core.faults import FaultKind, FaultPlan
from core.settings import ProviderSettings, Settings

TARGETS = fault_targets(Settings(providers=ProviderSettings(azure_deployments={"chat": "gpt-4o"})))


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 7, 22, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_targets_come_from_the_catalogue_and_the_azure_deployments() -> None:
    assert "gpt-4o" in TARGETS["openai"] and "claude-haiku-4-5" not in TARGETS["openai"]
    assert "claude-haiku-4-5" in TARGETS["anthropic"]
    assert "text-embedding-3-small" not in TARGETS["openai"]
    assert TARGETS["azure"] == ["chat"]


def test_arming_says_what_was_armed_and_lists_it_with_what_is_left() -> None:
    plan = FaultPlan()
    said = arm_demo_fault(
        plan,
        DemoFault(FaultKind.RATE_LIMIT, provider="openai", calls=2, retry_after_s=3),
        TARGETS,
    )

    assert said == "Armed rate_limit · openai/any model · next 2 calls (retry after 3 s)."
    (row,) = list_armed_faults(plan)
    assert (row.fault, row.target, row.detail, row.left, row.fired) == (
        "Rate limit (429 with retry-after)",
        "openai/any model",
        "retry after 3 s",
        "2 calls",
        0,
    )
    plan.draw("openai", frozenset({"gpt-4o"}))
    assert list_armed_faults(plan)[0].left == "1 call"
    assert list_armed_faults(plan)[0].fired == 1


def test_a_fault_for_minutes_counts_down_and_ends() -> None:
    clock = Clock()
    plan = FaultPlan(clock=clock)
    said = arm_demo_fault(
        plan,
        DemoFault(FaultKind.SERVER_ERROR, provider="anthropic", minutes=5, status_code=529),
        TARGETS,
    )

    assert said == "Armed server_error · anthropic/any model · every call for 5 min (HTTP 529)."
    clock.now += timedelta(minutes=3)
    assert list_armed_faults(plan)[0].left == "2 min"
    clock.now += timedelta(minutes=3)
    assert list_armed_faults(plan) == []


def test_clear_one_and_clear_all_say_what_they_cleared() -> None:
    plan = FaultPlan()
    arm_demo_fault(plan, DemoFault(FaultKind.STREAM_CUT, provider="openai", calls=1), TARGETS)
    arm_demo_fault(
        plan, DemoFault(FaultKind.SLOW, model="claude-haiku-4-5", minutes=1, delay_s=4), TARGETS
    )
    arm_demo_fault(plan, DemoFault(FaultKind.TIMEOUT, provider="azure", calls=3), TARGETS)
    _, second, _ = list_armed_faults(plan)

    assert clear_demo_fault(plan, second.id) == (
        "Cleared slow · any provider/claude-haiku-4-5 · every call for 1 min."
    )
    assert clear_demo_fault(plan, second.id) == (
        "That fault had already ended; nothing was cleared."
    )
    assert clear_all_demo_faults(plan) == (
        "Cleared 2 faults: stream_cut · openai/any model · next call; "
        "timeout · azure/any model · next 3 calls."
    )
    assert clear_all_demo_faults(plan) == "No fault was armed; nothing was cleared."
    assert plan.pending() == []


@pytest.mark.parametrize(
    ("wanted", "sentence"),
    [
        (DemoFault(FaultKind.RATE_LIMIT), "Say how long the fault lasts"),
        (DemoFault(FaultKind.RATE_LIMIT, calls=2, minutes=3), "Say how long the fault lasts"),
        (DemoFault(FaultKind.RATE_LIMIT, calls=0), "whole number from 1 to 1,000"),
        (DemoFault(FaultKind.RATE_LIMIT, calls=2.5), "whole number from 1 to 1,000"),
        (DemoFault(FaultKind.RATE_LIMIT, minutes=-1), "more than 0 and at most 1,440"),
        (DemoFault(FaultKind.RATE_LIMIT, calls=1, retry_after_s=-2), "Retry-after must be"),
        (DemoFault(FaultKind.SERVER_ERROR, calls=1, status_code=404), "from 500 to 599"),
        (DemoFault(FaultKind.SLOW, calls=1, delay_s=0), "The delay must be more than 0"),
        (DemoFault(FaultKind.TIMEOUT, calls=1, provider="cohere"), "no provider 'cohere'"),
        (
            DemoFault(FaultKind.TIMEOUT, calls=1, provider="openai", model="claude-3-opus"),
            "openai does not serve claude-3-opus",
        ),
        (DemoFault(FaultKind.SCHEMA_VIOLATION, calls=1), "not one of the demo faults"),
    ],
)
def test_bad_input_gets_one_sentence_and_arms_nothing(wanted: DemoFault, sentence: str) -> None:
    plan = FaultPlan()
    with pytest.raises(FaultInputError, match=sentence) as caught:
        arm_demo_fault(plan, wanted, TARGETS)
    assert str(caught.value).count(". ") == 0 and str(caught.value).endswith(".")
    assert plan.pending() == []
