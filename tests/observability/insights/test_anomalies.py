"""Spikes found against a rolling baseline, quiet periods left alone, budgets judged by day."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from observability.insights.anomalies import AnomalyPolicy, Signal, State, detect_anomalies
from observability.insights.budgets import (
    BudgetError,
    Budgets,
    check_budgets,
    load_budgets,
    save_budget,
)
from observability.queries import Window
from tests.observability.insights.store import Turn, open_store, write_turns

START = datetime(2026, 11, 20, 8, tzinfo=UTC)
INCIDENT = START + timedelta(minutes=100)


@pytest.fixture
def store(database_url: str) -> Engine:
    return open_store(database_url)


def _traffic(per_minute: int, minutes: int, *, incident_minutes: int = 12) -> list[Turn]:
    """Steady traffic with, from minute 100, a 12-minute OpenAI outage: every call falls back
    to Anthropic, and latency is about 3.4 times its usual."""
    rng = random.Random(9)
    turns = []
    for minute in range(minutes):
        at = START + timedelta(minutes=minute)
        in_incident = 100 <= minute < 100 + incident_minutes
        for n in range(per_minute):
            turns.append(
                Turn(
                    at=at + timedelta(seconds=n * 60 / per_minute),
                    conversation=f"c-{minute}-{n}",
                    user=f"user-{n % 7}",
                    cost=0.002,
                    latency_ms=rng.uniform(700, 900) * (3.4 if in_incident else 1),
                    fallback_from="gpt-4o-mini" if in_incident else None,
                    model="claude-haiku-4-5" if in_incident else "gpt-4o-mini",
                    provider="anthropic" if in_incident else "openai",
                )
            )
    return turns


def test_outage_is_found_with_its_size_time_and_traces_link(store: Engine) -> None:
    write_turns(store, _traffic(per_minute=25, minutes=130))
    window = Window(START + timedelta(minutes=60), START + timedelta(minutes=130))

    statuses = {s.signal: s for s in detect_anomalies(store, window, AnomalyPolicy())}

    (latency,) = statuses[Signal.P95_LATENCY].incidents
    assert latency.state is State.ALERT
    assert (latency.start, latency.end) == (INCIDENT, INCIDENT + timedelta(minutes=12))
    assert latency.size.startswith("p95 3.") and latency.size.endswith("× its baseline for 12 min")
    assert latency.traces_link == (
        "/traces?start=2026-11-20T09%3A40%3A00%2B00%3A00&end=2026-11-20T09%3A52%3A00%2B00%3A00"
    )
    (fallbacks,) = statuses[Signal.FALLBACK_RATE].incidents
    assert fallbacks.state is State.ALERT and fallbacks.minutes == 12
    assert fallbacks.size == "fallback rate 50.0 % against a baseline of 0.0 % for 12 min"
    (errors,) = statuses[Signal.ERROR_RATE].incidents
    assert errors.size == "error rate 50.0 % against a baseline of 0.0 % for 12 min"
    assert statuses[Signal.COST].incidents == ()
    assert statuses[Signal.P95_LATENCY].state is State.OK


def test_quiet_periods_do_not_alarm(store: Engine) -> None:
    write_turns(store, _traffic(per_minute=3, minutes=130))
    window = Window(START + timedelta(minutes=60), START + timedelta(minutes=130))

    statuses = detect_anomalies(store, window, AnomalyPolicy(min_requests=20))

    assert all(s.incidents == () for s in statuses)
    assert {s.state for s in statuses} == {State.NO_DATA}


def test_empty_store_has_no_data(store: Engine) -> None:
    window = Window(START, START + timedelta(hours=2))

    statuses = detect_anomalies(store, window)

    assert [s.state for s in statuses] == [State.NO_DATA] * 4


def test_budgets_from_settings_and_admin_page(store: Engine) -> None:
    turns = [
        Turn(at=START + timedelta(minutes=n), conversation=f"c{n}", user=user, cost=cost)
        for n, (user, cost) in enumerate([("big", 4.5), ("big", 1.0), ("small", 0.2)])
    ]
    write_turns(store, turns)
    save_budget(store, "overall", 5.0)
    save_budget(store, "small", 1.0)

    budgets = load_budgets(store, overall=100.0, per_customer=5.0)
    statuses = check_budgets(store, budgets, START.date())

    assert budgets == Budgets(5.0, 5.0, (("small", 1.0),))
    overall, big, small = statuses
    assert (overall.scope, overall.state, overall.spent) == ("overall", State.ALERT, 5.7)
    assert (big.scope, big.state) == ("big", State.ALERT)
    assert big.size == f"customer big: $5.50 of $5.00 (110 %) spent on {START.date()}"
    assert (small.scope, small.state) == ("small", State.OK)
    save_budget(store, "overall", None)
    assert load_budgets(store, overall=None, per_customer=None).overall is None
    with pytest.raises(BudgetError, match="more than"):
        save_budget(store, "overall", 0)
