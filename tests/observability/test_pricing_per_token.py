"""Pricing a call from a model's charge per token gives genai-prices' own figure, for every
model of its snapshot: below and above long-context tiers, with cache reads and writes."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

from genai_prices.data_snapshot import get_snapshot

from observability.pricing.library import (
    calc_with_library,
    library_cost,
    per_token_of,
    per_token_on,
)
from observability.pricing.rules import TokenUsage

DAYS = [datetime(2024, 6, 1, 12, tzinfo=UTC), datetime(2026, 12, 1, 12, tzinfo=UTC)]


def _usages(rng: random.Random, up_to_input: int | None) -> list[TokenUsage]:
    made = [TokenUsage(), TokenUsage(input=1), TokenUsage(output=7)]
    for _ in range(12):
        total = rng.choice([rng.randint(1, 5_000), rng.randint(5_000, 400_000)])
        if up_to_input is not None and rng.random() < 0.3:
            total = up_to_input
        read = rng.randint(0, total // 2)
        write = rng.randint(0, total - read)
        made.append(TokenUsage(total, rng.randint(0, 8_000), read, write, rng.randint(0, write)))
    return made


def test_every_model_priced_per_token_agrees_with_the_library_to_the_last_digit() -> None:
    rng = random.Random(20)
    checked = 0
    for provider in get_snapshot().providers:
        for model in provider.models:
            for day in DAYS:
                prices = model.get_prices(day)
                per_token = per_token_of(prices)
                if per_token is None:
                    continue
                for usage in _usages(rng, per_token.up_to_input):
                    if per_token.up_to_input is not None and usage.input > per_token.up_to_input:
                        continue
                    assert per_token.charge(usage) == calc_with_library(prices, usage), (
                        provider.id,
                        model.id,
                        usage,
                    )
                    checked += 1
    assert checked > 20_000


def test_a_call_above_the_long_context_tier_is_left_to_the_library() -> None:
    day = date(2026, 12, 1)
    per_token = per_token_on("anthropic", "claude-sonnet-4-5", day)
    assert per_token is not None and per_token.up_to_input == 200_000
    long_call = TokenUsage(input=250_000, output=1_000)

    charged = library_cost("anthropic", "claude-sonnet-4-5", long_call, day)

    assert charged is not None and charged > per_token.charge(long_call)
