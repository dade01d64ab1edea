"""Recommendations with their money, computed from spans; unsupported ones are not made."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from observability.insights.recommendations import recommend
from observability.queries import Window
from tests.observability.insights.store import Turn, open_store, write_turns

START = datetime(2026, 11, 20, 8, tzinfo=UTC)
WINDOW = Window(START, START + timedelta(days=1))


@pytest.fixture
def store(database_url: str) -> Engine:
    return open_store(database_url)


def _turn(n: int, **changes: object) -> Turn:
    values: dict[str, object] = {
        "at": START + timedelta(minutes=n),
        "conversation": f"c-{n}",
        "user": f"u-{n % 9}",
    }
    return Turn(**(values | changes))  # type: ignore[arg-type]


def _kinds(store: Engine) -> dict[str, float]:
    return {r.kind: r.savings_usd for r in recommend(store, WINDOW)}


def test_cheaper_model_of_equal_quality_is_recommended_with_its_saving(store: Engine) -> None:
    rng = random.Random(1)
    turns = [
        _turn(n, model=model, cost=cost, quality=min(max(rng.gauss(0.8, 0.05), 0), 1))
        for n in range(120)
        for model, cost in [("gpt-4o", 0.01) if n % 2 else ("gpt-4o-mini", 0.001)]
    ]
    write_turns(store, turns)

    (found,) = [r for r in recommend(store, WINDOW) if r.kind == "cheaper_model"]

    assert found.title == "Route gpt-4o's turns to gpt-4o-mini"
    assert found.savings_usd == pytest.approx((0.01 - 0.001) * 60)
    assert found.spans == 120
    assert found.link.startswith("/traces?start=2026-11-20T08")


def test_cheaper_model_of_lower_quality_is_not_recommended(store: Engine) -> None:
    rng = random.Random(2)
    turns = [
        _turn(n, model=model, cost=cost, quality=rng.gauss(mean, 0.05))
        for n in range(120)
        for model, cost, mean in [("gpt-4o", 0.01, 0.8) if n % 2 else ("gpt-4o-mini", 0.001, 0.6)]
    ]
    write_turns(store, turns)

    assert "cheaper_model" not in _kinds(store)


def test_repeated_questions_missing_the_cache_are_worth_caching(store: Engine) -> None:
    turns = [
        _turn(n, question=("Where is my order?", "where is my ORDER")[n % 2] if n < 10
              else f"question {n}", cache_hit=False, cost=0.002)
        for n in range(30)
    ]  # fmt: skip
    write_turns(store, turns)

    (found,) = [r for r in recommend(store, WINDOW) if r.kind == "cache"]

    assert found.savings_usd == pytest.approx(9 * 0.002)
    assert "1 questions were asked more than once (9 repeats" in found.detail
    assert "the answer cache served 0 % of 30 lookups" in found.detail


def test_long_prompts_are_worth_trimming_at_the_models_input_price(store: Engine) -> None:
    turns = [_turn(n, input_tokens=10_000 if n < 30 else 1_000) for n in range(130)]
    write_turns(store, turns)

    (found,) = [r for r in recommend(store, WINDOW) if r.kind == "trim_context"]

    target = 2 * (30 * 10_000 + 100 * 1_000) / 130
    assert found.spans == 30
    assert found.savings_usd == pytest.approx(30 * (10_000 - target) * 0.15 / 1e6, rel=1e-4)


def test_failing_primary_costs_time_and_the_fallbacks_price(store: Engine) -> None:
    turns = [
        _turn(n, fallback_from="gpt-4o-mini", model="claude-haiku-4-5", provider="anthropic",
              cost=0.0015)
        for n in range(12)
    ]  # fmt: skip
    write_turns(store, turns)

    (found,) = [r for r in recommend(store, WINDOW) if r.kind == "fix_primary"]

    # gpt-4o-mini would have charged 1000 × $0.15 + 100 × $0.60 per 1M = $0.00021 a turn
    assert found.savings_usd == pytest.approx(12 * (0.0015 - 0.00021))
    assert found.detail.startswith("12 calls to gpt-4o-mini failed and fell back, adding 24 s")


def test_nothing_is_recommended_without_the_data_for_it(store: Engine) -> None:
    turns = [_turn(n, fallback_from="gpt-4o-mini" if n < 3 else None) for n in range(20)]
    write_turns(store, turns)

    assert _kinds(store) == {}
