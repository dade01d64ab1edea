"""LLM call prices: a data file of per-family rates and one calculator for any span."""

from observability.pricing.calculator import (
    ModelPrice,
    PriceStatus,
    SpanPrice,
    TokenUsage,
    cost_of,
    find_price,
    load_price_table,
    price_span_attributes,
)

__all__ = [
    "ModelPrice",
    "PriceStatus",
    "SpanPrice",
    "TokenUsage",
    "cost_of",
    "find_price",
    "load_price_table",
    "price_span_attributes",
]
