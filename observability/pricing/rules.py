"""Our own price rows: the bundled corrections in ``prices.json`` and admins' overrides.

A ``PriceRule`` prices one model (and its dated snapshots: ``claude-sonnet-4`` covers
``claude-sonnet-4-20250514``) from a date on, in USD per 1M tokens. Cached tokens are billed
once at their own rate: cache reads at ``cached_input``, cache writes at ``cache_write`` (5-minute)
or ``cache_write_1h``, the rest at ``input``. A long-context tier bills *every* token of a
request whose input exceeds ``long_context_threshold`` at the tier's rates, as Anthropic and
OpenAI do; the cached rates scale by the same factor as the input rate.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

PER_TOKENS = Decimal(1_000_000)
_SNAPSHOT = r"(-\d{4}-?\d{2}-?\d{2}|-latest|-0)?"


@dataclass(frozen=True)
class TokenUsage:
    """Token counts as the GenAI conventions define them (input includes cached input);
    ``cache_write_1h`` is the part of ``cache_write`` written for an hour."""

    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0
    cache_write_1h: int = 0


@dataclass(frozen=True)
class PriceRule:
    """USD per 1M tokens for ``model`` from ``effective`` on; ``provider`` empty means any."""

    model: str
    effective: date
    input: Decimal
    output: Decimal
    provider: str = ""
    cached_input: Decimal | None = None
    cache_write: Decimal | None = None
    cache_write_1h: Decimal | None = None
    long_context_threshold: int | None = None
    long_input: Decimal | None = None
    long_output: Decimal | None = None
    note: str = ""

    def matches(self, provider: str, model: str) -> bool:
        """Whether this rule prices ``model`` (or a dated snapshot of it) from ``provider``."""
        if self.provider and provider and self.provider != provider:
            return False
        return _pattern(self.model).fullmatch(model) is not None

    def cost(self, usage: TokenUsage) -> Decimal:
        """The exact USD cost of ``usage`` at this rule's rates."""
        input_rate, output_rate = self.input, self.output
        scale = Decimal(1)
        long_tier = (
            self.long_context_threshold is not None and usage.input > self.long_context_threshold
        )
        if long_tier and self.long_input is not None:
            scale = self.long_input / self.input if self.input else Decimal(1)
            input_rate = self.long_input
            output_rate = self.long_output if self.long_output is not None else output_rate
        write_5m = max(usage.cache_write - usage.cache_write_1h, 0)
        uncached = max(usage.input - usage.cache_read - usage.cache_write, 0)
        micro = (
            uncached * input_rate
            + usage.cache_read * _or(self.cached_input, self.input) * scale
            + write_5m * _or(self.cache_write, self.input) * scale
            + usage.cache_write_1h * _or(self.cache_write_1h, self.input * 2) * scale
            + usage.output * output_rate
        )
        return micro / PER_TOKENS


@cache
def bundled_rules() -> tuple[PriceRule, ...]:
    """Our corrections to genai-prices, read once from ``prices.json``."""
    text = resources.files("observability.pricing").joinpath("prices.json").read_text("utf-8")
    return tuple(rule_from_mapping(row) for row in json.loads(text)["rules"])


def rule_from_mapping(row: dict[str, Any]) -> PriceRule:
    """A rule from JSON-like values (rates as strings or numbers, the date ISO)."""

    def rate(key: str) -> Decimal | None:
        value = row.get(key)
        return None if value is None or value == "" else Decimal(str(value))

    threshold = row.get("long_context_threshold")
    return PriceRule(
        model=str(row["model"]).strip(),
        effective=date.fromisoformat(str(row["effective"])[:10]),
        input=Decimal(str(row["input"])),
        output=Decimal(str(row["output"])),
        provider=str(row.get("provider") or ""),
        cached_input=rate("cached_input"),
        cache_write=rate("cache_write"),
        cache_write_1h=rate("cache_write_1h"),
        long_context_threshold=None if threshold in (None, "") else int(threshold),
        long_input=rate("long_input"),
        long_output=rate("long_output"),
        note=str(row.get("note") or ""),
    )


def newest_rule(
    rules: tuple[PriceRule, ...], provider: str, model: str, day: date
) -> PriceRule | None:
    """The rule in force on ``day`` for the model: the latest effective date not after it."""
    best: PriceRule | None = None
    for rule in rules:
        later = best is None or rule.effective >= best.effective
        if later and rule.effective <= day and rule.matches(provider, model):
            best = rule
    return best


@cache
def _pattern(model: str) -> re.Pattern[str]:
    return re.compile(re.escape(model) + _SNAPSHOT, re.IGNORECASE)


def _or(value: Decimal | None, default: Decimal) -> Decimal:
    return default if value is None else value
