"""Price any span that carries GenAI token usage, whoever made it.

cost = (input − cache_read − cache_write) × input rate + cache_read × cached rate
       + cache_write × cache-write rate + output × output rate,   all per 1M tokens, in Decimal.

``gen_ai.usage.input_tokens`` includes cached input (the GenAI conventions; our Anthropic
instrumentation adds the cache figures to Anthropic's own ``input_tokens``), so cached tokens
are counted once. Azure is priced by the response model: its request model is a deployment name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from observability import attributes as attr

PER_TOKENS = Decimal(1_000_000)


class PriceStatus(StrEnum):
    """Whether a span got a cost: ``observatory.cost.status``."""

    PRICED = "priced"
    UNPRICED = "unpriced"
    """Tokens were used but the model has no price: the cost is unknown, not zero."""
    NOT_APPLICABLE = "not_applicable"
    """The span carries no token usage."""


@dataclass(frozen=True)
class ModelPrice:
    """One row of ``prices.json``: USD per 1M tokens for a model family."""

    family: str
    pattern: re.Pattern[str]
    input: Decimal
    output: Decimal
    cached_input: Decimal | None
    cache_write: Decimal | None
    source: str
    effective: str


@dataclass(frozen=True)
class SpanPrice:
    """What a span cost; ``cost_usd`` is ``None`` unless ``status`` is PRICED."""

    cost_usd: Decimal | None
    status: PriceStatus
    family: str | None


@dataclass(frozen=True)
class TokenUsage:
    """Token counts as the GenAI conventions define them (input includes cached input)."""

    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0


NOT_APPLICABLE = SpanPrice(None, PriceStatus.NOT_APPLICABLE, None)


@cache
def load_price_table() -> tuple[ModelPrice, ...]:
    """The model families and their rates, read once from ``prices.json``."""
    text = resources.files("observability.pricing").joinpath("prices.json").read_text("utf-8")
    return tuple(_parse_row(row) for row in json.loads(text)["models"])


def _parse_row(row: Mapping[str, Any]) -> ModelPrice:
    def rate(key: str) -> Decimal | None:
        value = row[key]
        return None if value is None else Decimal(value)

    return ModelPrice(
        family=row["family"],
        pattern=re.compile(row["pattern"], re.IGNORECASE),
        input=Decimal(row["input"]),
        output=Decimal(row["output"]),
        cached_input=rate("cached_input"),
        cache_write=rate("cache_write"),
        source=row["source"],
        effective=row["effective"],
    )


@lru_cache(maxsize=512)
def find_price(model: str) -> ModelPrice | None:
    """The price row whose pattern matches the whole model name (dated names resolve to family)."""
    name = model.strip()
    for row in load_price_table():
        if row.pattern.fullmatch(name):
            return row
    return None


def cost_of(price: ModelPrice, usage: TokenUsage) -> Decimal:
    """Exact USD cost of ``usage`` at ``price``; cached tokens are billed once, at their rate."""
    uncached = max(usage.input - usage.cache_read - usage.cache_write, 0)
    cached_rate = price.input if price.cached_input is None else price.cached_input
    write_rate = price.input if price.cache_write is None else price.cache_write
    micro = (
        uncached * price.input
        + usage.cache_read * cached_rate
        + usage.cache_write * write_rate
        + usage.output * price.output
    )
    return micro / PER_TOKENS


def price_span_attributes(attributes: Mapping[str, Any]) -> SpanPrice:
    """Price a span from its attributes: usage from ``gen_ai.usage.*``, model from the response.

    Returns NOT_APPLICABLE without usage, UNPRICED (cost ``None``, never 0) for a model that is
    not in the table, and PRICED with an exact Decimal otherwise.
    """
    usage = _usage(attributes)
    if usage is None:
        return NOT_APPLICABLE
    model = _priced_model(attributes)
    price = find_price(model) if model else None
    if price is None:
        return SpanPrice(None, PriceStatus.UNPRICED, None)
    return SpanPrice(cost_of(price, usage), PriceStatus.PRICED, price.family)


def _usage(attributes: Mapping[str, Any]) -> TokenUsage | None:
    input_tokens = _count(attributes.get(attr.USAGE_INPUT_TOKENS))
    output_tokens = _count(attributes.get(attr.USAGE_OUTPUT_TOKENS))
    if input_tokens is None and output_tokens is None:
        return None
    return TokenUsage(
        input=input_tokens or 0,
        output=output_tokens or 0,
        cache_read=_count(attributes.get(attr.USAGE_CACHE_READ_INPUT_TOKENS)) or 0,
        cache_write=_count(attributes.get(attr.USAGE_CACHE_CREATION_INPUT_TOKENS))
        or _count(attributes.get(attr.USAGE_CACHE_WRITE_INPUT_TOKENS))
        or 0,
    )


def _count(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return max(int(value), 0)
    except (TypeError, ValueError):
        return None


def _priced_model(attributes: Mapping[str, Any]) -> str | None:
    response_model = attributes.get(attr.RESPONSE_MODEL)
    if response_model:
        return str(response_model)
    if attributes.get(attr.PROVIDER_NAME) == attr.PROVIDER_AZURE_OPENAI:
        return None
    request_model = attributes.get(attr.REQUEST_MODEL)
    return str(request_model) if request_model else None
