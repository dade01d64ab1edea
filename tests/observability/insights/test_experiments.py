"""Experiment results from stored spans: a seeded difference is called significant at the
stated rates, a null one is not, and the verdict says so in a sentence."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from observability.insights import ExperimentSpec, Metric
from observability.insights.experiments import analyse_experiment
from tests.observability.insights.store import Turn, open_store, write_turns

START = datetime(2026, 11, 20, 9, tzinfo=UTC)
END = START + timedelta(days=2)


@pytest.fixture
def store(database_url: str) -> Engine:
    return open_store(database_url)


def _conversations(
    variant: str,
    count: int,
    *,
    cost: float,
    up_rate: float,
    escalation_rate: float,
    latency_ms: float,
    seed: int,
) -> list[Turn]:
    rng = random.Random(seed)
    turns = []
    for n in range(count):
        at = START + timedelta(minutes=rng.uniform(0, 2 * 24 * 60 - 10))
        conversation = f"{variant}-conv-{n}"
        for turn in range(2):
            turns.append(
                Turn(
                    at=at + timedelta(minutes=turn),
                    conversation=conversation,
                    user=f"{variant}-user-{n}",
                    cost=max(rng.gauss(cost, cost * 0.3), 0.0) / 2,
                    latency_ms=rng.lognormvariate(0, 0.4) * latency_ms,
                    quality=min(max(rng.gauss(0.8, 0.1), 0), 1),
                    vote=(1 if rng.random() < up_rate else -1),
                    escalated=turn == 1 and rng.random() < escalation_rate,
                    experiment="model-ab",
                    variant=variant,
                )
            )
    return turns


SPEC = ExperimentSpec("model-ab", ("A", "B"), Metric.COST_PER_CONVERSATION, min_sample=100)


def test_seeded_difference_is_significant_with_its_interval(store: Engine) -> None:
    write_turns(
        store,
        _conversations(
            "A", 200, cost=0.010, up_rate=0.84, escalation_rate=0.1, latency_ms=900, seed=1
        )
        + _conversations(
            "B", 200, cost=0.0032, up_rate=0.92, escalation_rate=0.1, latency_ms=900, seed=2
        ),
    )

    result = analyse_experiment(store, SPEC, END)

    a, b = result.variants
    assert (a.customers, a.conversations, a.requests) == (200, 200, 400)
    assert (b.customers, b.conversations, b.requests) == (200, 200, 400)
    assert b.cost_per_conversation.value == pytest.approx(0.0032, rel=0.06)
    assert a.cost_per_conversation.low < 0.010 < a.cost_per_conversation.high
    assert b.thumbs_up.value > a.thumbs_up.value
    tests = {t.metric: t for t in result.tests}
    cost = tests[Metric.COST_PER_CONVERSATION]
    assert cost.significant and cost.comparison.test == "Welch's t-test"
    assert cost.comparison.relative_change == pytest.approx(-0.68, abs=0.04)
    assert tests[Metric.THUMBS_UP_RATE].significant
    assert tests[Metric.THUMBS_UP_RATE].comparison.test == "two-proportion z-test"
    assert not tests[Metric.ESCALATION_RATE].significant
    assert tests[Metric.P95_LATENCY].comparison.test == "Mann–Whitney U"
    assert not tests[Metric.P95_LATENCY].significant
    assert result.still_needed == 0
    assert "B costs 6" in result.verdict and "% less per conversation than A" in result.verdict
    assert "significant at n = 200 conversations per variant" in result.verdict
    assert "thumbs-up rate" in result.verdict


def test_null_difference_is_not_significant_and_asks_for_more(store: Engine) -> None:
    write_turns(
        store,
        _conversations(
            "A", 60, cost=0.005, up_rate=0.85, escalation_rate=0.1, latency_ms=900, seed=7
        )
        + _conversations(
            "B", 60, cost=0.005, up_rate=0.85, escalation_rate=0.1, latency_ms=900, seed=8
        ),
    )

    result = analyse_experiment(store, SPEC, END)

    assert not any(t.significant for t in result.tests)
    assert result.still_needed > 0
    assert "not significant yet" in result.verdict
    assert f"about {result.still_needed:,} more conversations per variant" in result.verdict


def test_experiment_without_traffic_says_so(store: Engine) -> None:
    result = analyse_experiment(store, SPEC, END)

    assert (
        result.verdict == "No conversations in every variant yet, so there is nothing to compare."
    )
    assert [v.conversations for v in result.variants] == [0, 0]


def test_only_spans_inside_the_experiment_period_count(store: Engine) -> None:
    write_turns(
        store,
        _conversations("A", 10, cost=0.01, up_rate=0.5, escalation_rate=0, latency_ms=500, seed=5)
        + _conversations(
            "B", 10, cost=0.01, up_rate=0.5, escalation_rate=0, latency_ms=500, seed=6
        ),
    )
    later = ExperimentSpec("model-ab", ("A", "B"), start=END, end=END + timedelta(days=1))

    result = analyse_experiment(store, later, END + timedelta(days=2))

    assert [v.conversations for v in result.variants] == [0, 0]
