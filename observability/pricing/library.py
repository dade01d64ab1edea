"""Prices from Pydantic's ``genai-prices``: its bundled snapshot, never the network.

The library knows current and historical prices, long-context tiers, cache reads and writes
(5-minute and 1-hour) for OpenAI, Anthropic, Azure and more. Its ``input_tokens`` is the total,
cache reads and writes included, as on our spans. A model lookup is cached per provider and
name, and a model's prices per day, so pricing a call is one ``ModelPrice.calc_price``.
"""

from __future__ import annotations

import warnings
from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import lru_cache
from typing import Any

from genai_prices import Usage
from genai_prices.data_snapshot import get_snapshot

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


def library_cost(provider: str, model: str, usage: TokenUsage, day: date) -> Decimal | None:
    """What genai-prices charges for ``usage`` on ``day``; ``None`` when it has no price."""
    prices = _prices_on(provider, model, day)
    if prices is None:
        return None
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
