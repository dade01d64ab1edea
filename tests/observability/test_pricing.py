"""The price table: every catalogue model priced exactly, unknown ones unpriced, never $0."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from observability.pricing import PriceStatus, find_price, load_price_table, price_span_attributes

CATALOGUE = [
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4",
    "gpt-4-turbo",
    "gpt-3.5-turbo",
    "gpt-4.1-mini",
    "claude-3-5-sonnet-20241022",
    "claude-3-5-haiku-20241022",
    "claude-3-opus-20240229",
    "claude-3-sonnet-20240229",
    "claude-3-haiku-20240307",
    "text-embedding-3-small",
    "text-embedding-3-large",
]


def usage(
    model: str,
    input_tokens: int,
    output_tokens: int = 0,
    *,
    read: int = 0,
    write: int = 0,
    provider: str = "openai",
) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "gen_ai.provider.name": provider,
        "gen_ai.request.model": model,
        "gen_ai.response.model": model,
        "gen_ai.usage.input_tokens": input_tokens,
        "gen_ai.usage.output_tokens": output_tokens,
    }
    if read:
        attributes["gen_ai.usage.cache_read.input_tokens"] = read
    if write:
        attributes["gen_ai.usage.cache_creation.input_tokens"] = write
    return attributes


# Each expected cost worked by hand from the published per-1M rates in prices.json.
HAND_COMPUTED = [
    # 1,000,000 × $2.50 + 1,000,000 × $10 → $12.50
    (usage("gpt-4o-2024-08-06", 1_000_000, 1_000_000), "12.50", "gpt-4o"),
    # (1200 − 200) × 2.50 + 200 × 1.25 + 80 × 10 = 2500 + 250 + 800 = 3550 µ$ → $0.00355
    (usage("gpt-4o", 1200, 80, read=200), "0.00355", "gpt-4o"),
    # 10,000 × 0.15 + 500 × 0.60 = 1500 + 300 = 1800 µ$ → $0.0018
    (usage("gpt-4o-mini-2024-07-18", 10_000, 500), "0.0018", "gpt-4o-mini"),
    # 1000 × 30 + 100 × 60 = 36000 µ$ → $0.036
    (usage("gpt-4-0613", 1000, 100), "0.036", "gpt-4"),
    # 1000 × 10 + 100 × 30 = 13000 µ$ → $0.013
    (usage("gpt-4-turbo-2024-04-09", 1000, 100), "0.013", "gpt-4-turbo"),
    # 2000 × 0.50 + 1000 × 1.50 = 2500 µ$ → $0.0025
    (usage("gpt-3.5-turbo-0125", 2000, 1000), "0.0025", "gpt-3.5-turbo"),
    # (5000 − 4000) × 0.40 + 4000 × 0.10 + 100 × 1.60 = 400 + 400 + 160 = 960 µ$
    (usage("gpt-4.1-mini-2025-04-14", 5000, 100, read=4000), "0.00096", "gpt-4.1-mini"),
    # Anthropic, input includes cache: (2600 − 2000 − 500) × 0.80 + 2000 × 0.08 + 500 × 1.00
    # + 40 × 4.00 = 80 + 160 + 500 + 160 = 900 µ$
    (
        usage("claude-3-5-haiku-20241022", 2600, 40, read=2000, write=500, provider="anthropic"),
        "0.0009",
        "claude-3-5-haiku",
    ),
    # 1000 × 3 + 1000 × 15 = 18000 µ$ → $0.018
    (usage("claude-3-5-sonnet-20241022", 1000, 1000), "0.018", "claude-3-5-sonnet"),
    # (3000 − 1000) × 15 + 1000 × 1.50 + 200 × 75 = 30000 + 1500 + 15000 = 46500 µ$
    (usage("claude-3-opus-20240229", 3000, 200, read=1000), "0.0465", "claude-3-opus"),
    # 1000 × 3 + 100 × 15 = 4500 µ$
    (usage("claude-3-sonnet-20240229", 1000, 100), "0.0045", "claude-3-sonnet"),
    # 4000 × 0.25 + 400 × 1.25 = 1000 + 500 = 1500 µ$
    (usage("claude-3-haiku-20240307", 4000, 400), "0.0015", "claude-3-haiku"),
    # 5000 × 0.02 = 100 µ$ (embeddings have no output)
    (usage("text-embedding-3-small", 5000), "0.0001", "text-embedding-3-small"),
    # 1,000,000 × 0.13 → $0.13
    (usage("text-embedding-3-large", 1_000_000), "0.13", "text-embedding-3-large"),
]


@pytest.mark.parametrize(("attributes", "expected", "family"), HAND_COMPUTED)
def test_cost_matches_hand_computed_table(
    attributes: dict[str, Any], expected: str, family: str
) -> None:
    price = price_span_attributes(attributes)

    assert price.status is PriceStatus.PRICED
    assert price.family == family
    assert price.cost_usd == Decimal(expected)


@pytest.mark.parametrize("model", CATALOGUE)
def test_every_catalogue_model_has_a_price(model: str) -> None:
    assert find_price(model) is not None


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("gpt-4o-2024-11-20", "gpt-4o"),
        ("gpt-4o-mini", "gpt-4o-mini"),
        ("gpt-4-turbo", "gpt-4-turbo"),
        ("gpt-4-0125-preview", "gpt-4-turbo"),
        ("gpt-4", "gpt-4"),
        ("gpt-35-turbo", "gpt-3.5-turbo"),
        ("claude-3-5-haiku-latest", "claude-3-5-haiku"),
        ("claude-3-5-sonnet-20240620", "claude-3-5-sonnet"),
    ],
)
def test_dated_and_alias_names_resolve_to_their_family(model: str, family: str) -> None:
    price = find_price(model)

    assert price is not None and price.family == family


def test_every_row_names_its_source_and_effective_date() -> None:
    for row in load_price_table():
        assert row.source.startswith("https://")
        assert len(row.effective) == 10


def test_unknown_model_is_unpriced_with_no_cost() -> None:
    price = price_span_attributes(usage("gpt-99-ultra", 1000, 100))

    assert price.status is PriceStatus.UNPRICED
    assert price.cost_usd is None


def test_span_without_usage_is_not_applicable() -> None:
    price = price_span_attributes({"gen_ai.request.model": "gpt-4o", "observatory.route": "x"})

    assert price.status is PriceStatus.NOT_APPLICABLE
    assert price.cost_usd is None


def test_azure_priced_by_response_model_and_unpriced_without_one() -> None:
    by_response = {
        **usage("gpt-4o-mini-2024-07-18", 10_000, 500, provider="azure.ai.openai"),
        "gen_ai.request.model": "gpt-4o",
    }
    deployment_only = {**by_response, "gen_ai.response.model": None}

    assert price_span_attributes(by_response).cost_usd == Decimal("0.0018")
    assert price_span_attributes(deployment_only).status is PriceStatus.UNPRICED


def test_zero_tokens_cost_exactly_zero_and_still_priced() -> None:
    price = price_span_attributes(usage("gpt-4o", 0, 0))

    assert price.status is PriceStatus.PRICED
    assert price.cost_usd == Decimal(0)


def test_anthropic_sdk_cache_write_name_is_priced_too() -> None:
    attributes = usage("claude-3-5-haiku-20241022", 2600, 40, read=2000, provider="anthropic")
    attributes["gen_ai.usage.cache_write.input_tokens"] = 500

    assert price_span_attributes(attributes).cost_usd == Decimal("0.0009")
