"""Prices from Pydantic's ``genai-prices``: its bundled snapshot, never the network.

The library knows current and historical prices, long-context tiers, cache reads and writes
(5-minute and 1-hour) for OpenAI, Anthropic, Azure and more. Its ``input_tokens`` is the total,
cache reads and writes included, as on our spans. A model lookup is cached per provider and
name, and a model's prices per day.

``ModelPrice.calc_price`` takes 150–200 µs a call, which would cap the ingest of spans that
arrive without a cost at about 6,000 a second. Below a model's first long-context tier its
charge is linear in the five token counts, so the library is asked once per model and day for
the charge of an empty call and of one token of each kind, and a call is priced from those
(the same Decimal figures: a test holds the two equal for every model of the snapshot). Above
a tier, or for counts the library would not take, ``calc_price`` prices the call itself.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import lru_cache
from typing import Any

from genai_prices import Usage
from genai_prices.data_snapshot import get_snapshot
from genai_prices.types import TieredPrices

from observability import attributes as attr
from observability.pricing.rules import TokenUsage

PROVIDER_IDS = {
    attr.PROVIDER_OPENAI: "openai",
    attr.PROVIDER_ANTHROPIC: "anthropic",
    attr.PROVIDER_AZURE_OPENAI: "azure",
}
"""``gen_ai.provider.name`` → genai-prices provider id (others: the library guesses by model)."""


@lru_cache(maxsize=1024)
def library_model(provider: str, model: str) -> tuple[Any, str] | None:
    """genai-prices' model info for ``model`` and its id, or ``None`` when it has none."""
    try:
        _, info = get_snapshot().find_provider_model(model, None, PROVIDER_IDS.get(provider), None)
    except LookupError:
        return None
    return info, str(info.id)


@lru_cache(maxsize=4096)
def _prices_on(provider: str, model: str, day: date) -> Any:
    found = library_model(provider, model)
    if found is None:
        return None
    return found[0].get_prices(datetime.combine(day, time(12), UTC))


@dataclass(frozen=True)
class PerToken:
    """A call's charge as a fixed part (a price per request, where the model has one) and
    what one token of each kind adds, for calls of at most ``up_to_input`` input tokens
    (``None``: any size; above it a long-context tier applies)."""

    per_call: Decimal
    input: Decimal
    output: Decimal
    cache_read: Decimal
    cache_write: Decimal
    cache_write_1h: Decimal
    up_to_input: int | None

    def charge(self, usage: TokenUsage) -> Decimal:
        """The charge for ``usage`` (its counts as ``library_cost`` hands them on)."""
        return (
            self.per_call
            + self.input * usage.input
            + self.output * usage.output
            + self.cache_read * usage.cache_read
            + self.cache_write * usage.cache_write
            + self.cache_write_1h * min(usage.cache_write_1h, usage.cache_write)
        )


@lru_cache(maxsize=4096)
def per_token_on(provider: str, model: str, day: date) -> PerToken | None:
    """``model``'s charge per token of each kind on ``day``; ``None`` without a price."""
    prices = _prices_on(provider, model, day)
    return None if prices is None else per_token_of(prices)


def per_token_of(prices: Any) -> PerToken | None:
    """The charge per token of each kind of a genai-prices ``ModelPrice``, from its own
    ``calc_price`` of one-token calls; ``None`` when it will not price them."""
    try:
        per_call = calc_with_library(prices, TokenUsage())
        one_input = calc_with_library(prices, TokenUsage(input=1))
        one_read = calc_with_library(prices, TokenUsage(input=1, cache_read=1))
        one_write = calc_with_library(prices, TokenUsage(input=1, cache_write=1))
        one_hour = calc_with_library(prices, TokenUsage(input=1, cache_write=1, cache_write_1h=1))
        return PerToken(
            per_call=per_call,
            input=one_input - per_call,
            output=calc_with_library(prices, TokenUsage(output=1)) - per_call,
            cache_read=one_read - one_input,
            cache_write=one_write - one_input,
            cache_write_1h=one_hour - one_write,
            up_to_input=_first_tier(prices),
        )
    except (ArithmeticError, LookupError, TypeError, ValueError):
        return None


def _first_tier(prices: Any) -> int | None:
    """The input tokens above which a long-context tier of ``prices`` applies, if any."""
    starts = [
        tier.start
        for price in vars(prices).values()
        if isinstance(price, TieredPrices)
        for tier in price.tiers
    ]
    return min(starts, default=None)


def library_cost(provider: str, model: str, usage: TokenUsage, day: date) -> Decimal | None:
    """What genai-prices charges for ``usage`` on ``day``; ``None`` when it has no price."""
    per_token = per_token_on(provider, model, day)
    if per_token is not None and _linear(usage, per_token.up_to_input):
        return per_token.charge(usage)
    prices = _prices_on(provider, model, day)
    if prices is None:
        return None
    return calc_with_library(prices, usage)


def _linear(usage: TokenUsage, up_to_input: int | None) -> bool:
    """Whether ``usage`` is below every tier and holds its cached tokens inside its input."""
    return (
        (up_to_input is None or usage.input <= up_to_input)
        and min(usage.input, usage.output, usage.cache_read, usage.cache_write) >= 0
        and usage.cache_read + usage.cache_write <= usage.input
    )


def calc_with_library(prices: Any, usage: TokenUsage) -> Decimal:
    """``ModelPrice.calc_price`` of ``usage`` (its total)."""
    counts: dict[str, int] = {
        "input_tokens": usage.input,
        "output_tokens": usage.output,
    }
    if usage.cache_read:
        counts["cache_read_tokens"] = usage.cache_read
    if usage.cache_write:
        counts["cache_write_tokens"] = usage.cache_write
    if usage.cache_write_1h:
        counts["cache_write_1h_tokens"] = min(usage.cache_write_1h, usage.cache_write)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result: Decimal = prices.calc_price(Usage(**counts))["total_price"]
    return result
