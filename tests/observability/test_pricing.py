"""Prices: genai-prices for every current model, our corrections, admins' overrides; the source
of every price named, unknown models unpriced (never $0)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from observability.pricing import (
    PRICE_BOOK,
    PriceOverrideError,
    PriceRule,
    PriceSource,
    PriceStatus,
    list_price_overrides,
    parse_rate,
    price_span_attributes,
    save_price_override,
)

CATALOGUE = Path(__file__).resolve().parents[2] / "core" / "providers" / "catalogue.json"
PRICE_PAGES = {
    "openai": [
        *("gpt-5", "gpt-5-mini", "gpt-5-nano", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano"),
        *("gpt-4o", "gpt-4o-2024-05-13", "gpt-4o-mini", "o1", "o1-mini", "o1-pro", "o3"),
        *("o3-mini", "o3-pro", "o4-mini", "gpt-4-turbo", "gpt-4", "gpt-3.5-turbo"),
        *("text-embedding-3-small", "text-embedding-3-large", "text-embedding-ada-002"),
    ],
    "anthropic": [
        *("claude-opus-4-1-20250805", "claude-opus-4-20250514", "claude-sonnet-4-20250514"),
        *("claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001", "claude-opus-4-5"),
        *("claude-3-7-sonnet-20250219", "claude-3-5-haiku-20241022", "claude-3-haiku-20240307"),
    ],
}
DAY = datetime(2026, 12, 1, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _no_overrides() -> Any:
    PRICE_BOOK.use(())
    yield
    PRICE_BOOK.use(())


def usage(
    model: str,
    input_tokens: int,
    output_tokens: int = 0,
    *,
    read: int = 0,
    write: int = 0,
    write_1h: int = 0,
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
    if write_1h:
        attributes["observatory.usage.cache_creation_1h.input_tokens"] = write_1h
    return attributes


# Each expected cost worked by hand from the providers' published per-1M rates.
HAND_COMPUTED = [
    # the May 2024 snapshot keeps its own price: 1M × $5 + 1M × $15
    (usage("gpt-4o-2024-05-13", 1_000_000, 1_000_000), "20"),
    # (1200 − 200) × 2.50 + 200 × 1.25 + 80 × 10 = 3550 µ$
    (usage("gpt-4o-2024-08-06", 1200, 80, read=200), "0.00355"),
    # 10,000 × 0.15 + 500 × 0.60 = 1800 µ$
    (usage("gpt-4o-mini-2024-07-18", 10_000, 500), "0.0018"),
    # o3-mini and o4-mini: 1000 × 1.10 + 1000 × 4.40 = 5500 µ$
    (usage("o3-mini", 1000, 1000), "0.0055"),
    (usage("o4-mini-2025-04-16", 1000, 1000), "0.0055"),
    # Sonnet 4: 1000 × 3 + 1000 × 15 = 18000 µ$; Opus 4: 1000 × 15 + 1000 × 75
    (usage("claude-sonnet-4-20250514", 1000, 1000, provider="anthropic"), "0.018"),
    (usage("claude-opus-4-20250514", 1000, 1000, provider="anthropic"), "0.09"),
    # Haiku 4.5, input includes cache: (2600 − 2000 − 500) × 1 + 2000 × 0.10 + 500 × 1.25
    # + 40 × 5 = 100 + 200 + 625 + 200 = 1125 µ$
    (usage("claude-haiku-4-5", 2600, 40, read=2000, write=500, provider="anthropic"), "0.001125"),
    # one-hour writes at 2× input: 100 × 1 + 300 × 1.25 + 200 × 2.00 = 875 µ$
    (usage("claude-haiku-4-5", 600, 0, write=500, write_1h=200, provider="anthropic"), "0.000875"),
    # Sonnet 4 over 200k input tokens: every token at $6 / $22.50
    (usage("claude-sonnet-4-20250514", 300_000, 1000, provider="anthropic"), "1.8225"),
    # Sonnet 4.5 over 200k (genai-prices' tier): 300,000 × 6 + 1000 × 22.50
    (usage("claude-sonnet-4-5-20250929", 300_000, 1000, provider="anthropic"), "1.8225"),
    # 5000 × 0.02 = 100 µ$ (embeddings have no output)
    (usage("text-embedding-3-small", 5000), "0.0001"),
]


@pytest.mark.parametrize(("attributes", "expected"), HAND_COMPUTED)
def test_cost_matches_hand_computed_table(attributes: dict[str, Any], expected: str) -> None:
    price = price_span_attributes(attributes, at=DAY)

    assert price.status is PriceStatus.PRICED
    assert price.cost_usd == Decimal(expected)


@pytest.mark.parametrize(
    ("provider", "model"),
    [(provider, model) for provider, models in PRICE_PAGES.items() for model in models],
)
def test_every_model_on_the_price_pages_is_priced(provider: str, model: str) -> None:
    price = price_span_attributes(usage(model, 1000, 100, provider=provider), at=DAY)

    assert price.status is PriceStatus.PRICED
    assert price.cost_usd is not None and price.cost_usd > 0


def test_every_catalogue_model_is_priced() -> None:
    models = json.loads(CATALOGUE.read_text())["models"]
    entries = models.items() if isinstance(models, dict) else enumerate(models)
    for _, entry in entries:
        price = price_span_attributes(usage(entry["name"], 1000, 100, provider=entry["provider"]))
        assert price.status is PriceStatus.PRICED, entry["name"]


def test_each_price_names_its_source() -> None:
    library = price_span_attributes(usage("gpt-4o", 1000), at=DAY)
    ours = price_span_attributes(usage("claude-sonnet-4-20250514", 1000, provider="anthropic"))

    assert library.source is PriceSource.GENAI_PRICES
    assert ours.source is PriceSource.OBSERVATORY


def test_unknown_model_is_unpriced_with_no_cost() -> None:
    price = price_span_attributes(usage("gpt-99-ultra", 1000, 100))

    assert price.status is PriceStatus.UNPRICED
    assert price.cost_usd is None
    assert price.source is PriceSource.NONE


def test_span_without_usage_is_not_applicable() -> None:
    price = price_span_attributes({"gen_ai.request.model": "gpt-4o", "observatory.route": "x"})

    assert price.status is PriceStatus.NOT_APPLICABLE
    assert price.cost_usd is None


def test_azure_priced_by_response_model_and_unpriced_without_one() -> None:
    by_response = {
        **usage("gpt-4o-mini-2024-07-18", 10_000, 500, provider="azure.ai.openai"),
        "gen_ai.request.model": "support-deployment",
    }
    deployment_only = {**by_response, "gen_ai.response.model": None}

    assert price_span_attributes(by_response, at=DAY).cost_usd == Decimal("0.0018")
    assert price_span_attributes(deployment_only).status is PriceStatus.UNPRICED


def test_zero_tokens_cost_exactly_zero_and_still_priced() -> None:
    price = price_span_attributes(usage("gpt-4o", 0, 0))

    assert price.status is PriceStatus.PRICED
    assert price.cost_usd == Decimal(0)


def test_anthropic_sdk_cache_write_name_is_priced_too() -> None:
    attributes = usage("claude-haiku-4-5", 2600, 40, read=2000, provider="anthropic")
    attributes["gen_ai.usage.cache_write.input_tokens"] = 500

    assert price_span_attributes(attributes).cost_usd == Decimal("0.001125")


def test_override_wins_from_its_effective_date_only() -> None:
    PRICE_BOOK.use([PriceRule("gpt-4o", date(2026, 12, 1), Decimal(1), Decimal(2))])
    attributes = usage("gpt-4o-2024-08-06", 1_000_000, 1_000_000)

    before = price_span_attributes(attributes, at=datetime(2026, 11, 30, tzinfo=UTC))
    after = price_span_attributes(attributes, at=DAY)

    assert (before.cost_usd, before.source) == (Decimal("12.50"), PriceSource.GENAI_PRICES)
    assert (after.cost_usd, after.source) == (Decimal(3), PriceSource.OVERRIDE)


def test_override_prices_a_model_nobody_else_knows() -> None:
    PRICE_BOOK.use([PriceRule("acme-support-7b", date(2026, 1, 1), Decimal("0.2"), Decimal(1))])

    price = price_span_attributes(usage("acme-support-7b", 1_000_000, 1_000_000))

    assert price.cost_usd == Decimal("1.2") and price.source is PriceSource.OVERRIDE


def test_overrides_are_stored_replaced_and_loaded(database_url: str) -> None:
    engine = create_engine(database_url)
    first = PriceRule("gpt-4o", date(2026, 12, 1), Decimal("2"), Decimal("8"), note="deal")
    save_price_override(engine, first)
    save_price_override(engine, PriceRule("gpt-4o", date(2026, 12, 1), Decimal(1), Decimal(4)))
    save_price_override(
        engine,
        PriceRule(
            "claude-sonnet-4",
            date(2026, 12, 2),
            Decimal(3),
            Decimal(15),
            provider="anthropic",
            long_context_threshold=200_000,
            long_input=Decimal(6),
            long_output=Decimal("22.5"),
        ),
    )

    stored = list_price_overrides(engine)

    assert [(r.model, r.input, r.output) for r in stored] == [
        ("claude-sonnet-4", Decimal(3), Decimal(15)),
        ("gpt-4o", Decimal(1), Decimal(4)),
    ]
    assert stored[0].long_context_threshold == 200_000 and stored[0].long_output == Decimal("22.5")
    price = price_span_attributes(usage("gpt-4o", 1_000_000, 1_000_000), at=DAY)
    assert (price.cost_usd, price.source) == (Decimal(5), PriceSource.OVERRIDE)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (PriceRule(" ", date(2026, 1, 1), Decimal(1), Decimal(1)), "Name the model"),
        (PriceRule("m", date(2026, 1, 1), Decimal(-1), Decimal(1)), "zero or more"),
        (
            PriceRule("m", date(2026, 1, 1), Decimal(1), Decimal(1), long_context_threshold=9),
            "needs both",
        ),
    ],
)
def test_bad_override_is_refused_with_a_sentence(rule: PriceRule, message: str) -> None:
    engine = create_engine("sqlite://")

    with pytest.raises(PriceOverrideError, match=message):
        save_price_override(engine, rule)


def test_typed_rates_are_read_or_refused() -> None:
    assert parse_rate("$2.50", "input") == Decimal("2.50")
    assert parse_rate(" ", "input") is None
    with pytest.raises(PriceOverrideError, match=r"like 2\.50"):
        parse_rate("two", "input")
