"""Answers kept for identical requests of the same customer, and the span that says so.

The key is what the model would be sent — route, messages (which hold the sources and the
history), tools and parameters — plus the customer's id, so one customer's answer is never
replayed to another. Only answers built without any tool that reads changing data or changes
something are kept (``ToolRegistry.is_cacheable``): a cached order status would go stale and a
replayed cancellation would claim something that did not happen again. Only whole answers are
kept: the model's last call ended with ``stop`` and said something (a stream the provider cut
off never gets here: it is a provider failure).

An answer is kept with its citations and quality score, so a replay cites the same passages and
scores the same. The ``cache_lookup`` span of a hit says ``observatory.cache.hit=true`` and costs
exactly $0 (``observatory.cost.status=priced``); it names the operation, provider and model the
answer came from, so the analytics count it as a call answered from the cache.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from opentelemetry.trace import Span

from core.conversation.generation import (
    ANSWER_MAX_TOKENS,
    ANSWER_TEMPERATURE,
    GENAI_PROVIDER,
    Generation,
)
from core.conversation.parts import EngineParts
from core.conversation.tracing import tracer
from core.conversation.turns import Citation, Quality
from core.providers.base import ChatMessage
from observability import attributes as attr
from observability.pricing import PriceStatus

COMPLETE = "stop"
"""The finish reason of a whole answer; ``length`` (cut at the token limit) is not kept."""


@dataclass(frozen=True)
class CachedTurn:
    """An answer as it was given: text, where it came from, its citations and its score."""

    text: str
    model: str | None
    provider: str | None
    simulated: bool | None
    citations: tuple[Citation, ...]
    quality: Quality


def answer_key(
    parts: EngineParts, messages: Sequence[ChatMessage], route: Sequence[str], *, user_id: int
) -> str:
    """The cache key of this request for this customer."""
    return parts.cache.key_for(
        {
            "user_id": user_id,
            "route": list(route),
            "messages": [[m.role, m.content] for m in messages],
            "tools": sorted(spec.name for spec in parts.tools.specs()),
            "temperature": ANSWER_TEMPERATURE,
            "max_tokens": ANSWER_MAX_TOKENS,
        }
    )


def look_up(parts: EngineParts, key: str, route: Sequence[str]) -> CachedTurn | None:
    """The kept answer for ``key``, if any, in a ``cache_lookup`` span that says which."""
    with tracer.start_as_current_span("cache_lookup") as span:
        cached = _from_entry(parts.cache.get(key))
        span.set_attribute(attr.CACHE_HIT, cached is not None)
        if cached is not None:
            _mark_free_call(span, cached, route)
    return cached


def replay(generation: Generation, cached: CachedTurn) -> None:
    """Fill ``generation`` with the kept answer: free, and first token now."""
    generation.text = cached.text
    generation.model = cached.model
    generation.provider = cached.provider
    generation.simulated = cached.simulated
    generation.cached = True
    generation.cost_usd = Decimal(0)
    generation.first_token_at = time.perf_counter()


def remember(
    parts: EngineParts,
    key: str,
    generation: Generation,
    citations: Sequence[Citation],
    quality: Quality,
) -> bool:
    """Keep the answer under ``key`` unless it is not a whole answer (the model's last call did
    not end with ``stop``, or nothing was said) or a tool it used forbids it; True when kept."""
    if generation.finish_reason != COMPLETE or not generation.text.strip():
        return False
    used = [step.name for step in generation.tool_steps]
    if generation.pending is not None:
        used.append(generation.pending.tool)
    if not parts.tools.is_cacheable(used):
        return False
    entry = {
        "text": generation.text,
        "model": generation.model,
        "provider": generation.provider,
        "simulated": generation.simulated,
        "citations": [asdict(citation) for citation in citations],
        "quality": {"score": quality.score, "reasons": list(quality.reasons)},
    }
    parts.cache.put(key, entry, parts.settings.cache.ttl_seconds)
    return True


def _mark_free_call(span: Span, cached: CachedTurn, route: Sequence[str]) -> None:
    span.set_attributes(
        {
            attr.COST_USD: 0.0,
            attr.COST_STATUS: PriceStatus.PRICED.value,
            attr.OPERATION_NAME: "chat",
            attr.REQUEST_MODEL: route[0],
        }
    )
    if cached.provider:
        span.set_attribute(attr.PROVIDER_NAME, GENAI_PROVIDER.get(cached.provider, cached.provider))
    if cached.model:
        span.set_attribute(attr.RESPONSE_MODEL, cached.model)
    if cached.simulated:
        span.set_attribute(attr.SIMULATED, True)


def _from_entry(entry: Mapping[str, Any] | None) -> CachedTurn | None:
    """The entry as a ``CachedTurn``; None for a miss or an entry of another shape."""
    if entry is None:
        return None
    try:
        quality = entry["quality"]
        return CachedTurn(
            text=str(entry["text"]),
            model=entry.get("model"),
            provider=entry.get("provider"),
            simulated=entry.get("simulated"),
            citations=tuple(Citation(**citation) for citation in entry["citations"]),
            quality=Quality(float(quality["score"]), tuple(quality["reasons"])),
        )
    except (KeyError, TypeError, ValueError):
        return None
