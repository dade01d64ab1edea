"""Price any span that carries GenAI token usage, whoever made it.

Three sources, first match wins, each recorded on the span as ``observatory.cost.source``:

1. ``override`` — an admin's price for the model, in force on the span's day (``price_overrides``
   in the trace store, held in memory by ``PRICE_BOOK``);
2. ``observatory`` — our corrections in ``prices.json`` (tiers genai-prices lacks);
3. ``genai-prices`` — Pydantic's price library, historical prices by the span's date.

A model none of them knows is ``unpriced``: the cost is unknown, never $0.
``gen_ai.usage.input_tokens`` includes cached input, so cached tokens are billed once at their
own rate. Azure is priced by the response model: its request model is a deployment name.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from observability import attributes as attr
from observability.pricing.library import library_cost, library_model
from observability.pricing.rules import PriceRule, TokenUsage, bundled_rules, newest_rule

logger = logging.getLogger("observability.pricing")


class PriceStatus(StrEnum):
    """Whether a span got a cost: ``observatory.cost.status``."""

    PRICED = "priced"
    UNPRICED = "unpriced"
    """Tokens were used but the model has no price: the cost is unknown, not zero."""
    NOT_APPLICABLE = "not_applicable"
    """The span carries no token usage."""


class PriceSource(StrEnum):
    """Where a span's price came from: ``observatory.cost.source``."""

    OVERRIDE = "override"
    OBSERVATORY = "observatory"
    GENAI_PRICES = "genai-prices"
    NONE = "none"


@dataclass(frozen=True)
class SpanPrice:
    """What a span cost; ``cost_usd`` is ``None`` unless ``status`` is PRICED."""

    cost_usd: Decimal | None
    status: PriceStatus
    model: str | None
    """The priced model (the library's id, or the rule's model name)."""
    source: PriceSource = PriceSource.NONE


NOT_APPLICABLE = SpanPrice(None, PriceStatus.NOT_APPLICABLE, None)


class PriceBook:
    """The admins' overrides in memory, swapped whole when they change (thread-safe reads).

    With a ``loader`` attached (the trace store's), the book reads the stored overrides the
    first time a price is asked for, and again whenever ``refresh`` is called (the store
    writer does so while idle, so overrides saved by another process arrive within a minute).
    """

    def __init__(self) -> None:
        self._rules: tuple[PriceRule, ...] = ()
        self._loader: Callable[[], Iterable[PriceRule]] | None = None
        self._loaded = False
        self._lock = threading.Lock()

    def attach(self, loader: Callable[[], Iterable[PriceRule]]) -> None:
        """Read the overrides through ``loader`` from now on (first use, then ``refresh``)."""
        with self._lock:
            self._loader, self._loaded = loader, False

    def use(self, rules: Iterable[PriceRule]) -> None:
        """Price with ``rules`` from now on."""
        with self._lock:
            self._rules, self._loaded = tuple(rules), True

    def refresh(self) -> None:
        """Read the overrides again through the loader; a failure keeps the ones held."""
        loader = self._loader
        if loader is None:
            return
        try:
            self.use(loader())
        except Exception:
            held = len(self._rules)
            logger.warning("price overrides could not be read; keeping the %d held", held)
            self._loaded = True

    @property
    def rules(self) -> tuple[PriceRule, ...]:
        """The overrides in force."""
        if not self._loaded and self._loader is not None:
            self.refresh()
        return self._rules


PRICE_BOOK = PriceBook()
"""The process's overrides; ``observability.pricing.overrides`` loads and saves them."""


def price_usage(provider: str, model: str, usage: TokenUsage, day: date) -> SpanPrice:
    """The price of ``usage`` on ``model`` on ``day``, from the first source that knows it."""
    rule = newest_rule(PRICE_BOOK.rules, provider, model, day)
    if rule is not None:
        return SpanPrice(rule.cost(usage), PriceStatus.PRICED, rule.model, PriceSource.OVERRIDE)
    rule = newest_rule(bundled_rules(), provider, model, day)
    if rule is not None:
        cost = rule.cost(usage)
        return SpanPrice(cost, PriceStatus.PRICED, rule.model, PriceSource.OBSERVATORY)
    charged = library_cost(provider, model, usage, day)
    if charged is None:
        return SpanPrice(None, PriceStatus.UNPRICED, None)
    found = library_model(provider, model)
    model_id = found[1] if found else model
    return SpanPrice(charged, PriceStatus.PRICED, model_id, PriceSource.GENAI_PRICES)


def price_span_attributes(
    attributes: Mapping[str, Any], *, at: datetime | None = None
) -> SpanPrice:
    """Price a span from its attributes: usage from ``gen_ai.usage.*``, model from the response,
    prices in force at ``at`` (the call's start; default now).

    Returns NOT_APPLICABLE without usage, UNPRICED (cost ``None``, never 0) for a model no
    source knows, and PRICED with an exact Decimal otherwise.
    """
    usage = _usage(attributes)
    if usage is None:
        return NOT_APPLICABLE
    model = _priced_model(attributes)
    if not model:
        return SpanPrice(None, PriceStatus.UNPRICED, None)
    provider = str(attributes.get(attr.PROVIDER_NAME) or "")
    day = (at or datetime.now(UTC)).astimezone(UTC).date()
    return price_usage(provider, model, usage, day)


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
        cache_write_1h=_count(attributes.get(attr.USAGE_CACHE_CREATION_1H_INPUT_TOKENS)) or 0,
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
