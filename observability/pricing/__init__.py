"""LLM call prices: admins' overrides, our corrections, then Pydantic's genai-prices."""

from observability.pricing.calculator import (
    PRICE_BOOK,
    PriceSource,
    PriceStatus,
    SpanPrice,
    price_span_attributes,
    price_usage,
)
from observability.pricing.overrides import (
    PriceOverrideError,
    list_price_overrides,
    load_price_overrides,
    parse_rate,
    save_price_override,
)
from observability.pricing.rules import PriceRule, TokenUsage

__all__ = [
    "PRICE_BOOK",
    "PriceOverrideError",
    "PriceRule",
    "PriceSource",
    "PriceStatus",
    "SpanPrice",
    "TokenUsage",
    "list_price_overrides",
    "load_price_overrides",
    "parse_rate",
    "price_span_attributes",
    "price_usage",
    "save_price_override",
]
