"""The instructions the assistant works under, and how citations are read back out of answers."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from core.conversation.turns import Citation

COMPANY = "Northwind Outfitters"

BASE_INSTRUCTIONS = f"""You are the customer-support assistant of {COMPANY}, an outdoor-gear shop.
Answer the customer's last message in a friendly, concise way (at most about 120 words).
Use only the passages in <sources> and the results of tools for facts; cite each passage you use
as [n]. Use the tools to look up or change orders and appointments instead of guessing; call a
tool that changes something only when the customer asks for that change in their message (the
customer confirms it before it runs). If you
cannot help, or the customer asks for a person, offer to create a ticket for a human agent.
Never ask for or repeat card numbers, passwords or other sensitive data."""

SNIPPET_CHARS = 240
_CITATION = re.compile(r"\[(\d{1,2})\]")


def build_system_prompt(
    *,
    customer_name: str,
    now: datetime,
    sources: str,
    variant_prompt: str | None = None,
    summary: str | None = None,
) -> str:
    """The system message: base rules, the customer, today's date, earlier summary and sources."""
    parts = [variant_prompt or BASE_INSTRUCTIONS]
    parts.append(f"The customer is {customer_name}. Today is {now:%A %d %B %Y}.")
    if summary:
        parts.append(f"Summary of the earlier conversation:\n{summary}")
    if sources:
        parts.append(sources)
    return "\n\n".join(parts)


def cited_numbers(answer: str) -> list[int]:
    """The distinct ``[n]`` markers of an answer, in order of first use."""
    seen: list[int] = []
    for match in _CITATION.finditer(answer):
        number = int(match.group(1))
        if number not in seen:
            seen.append(number)
    return seen


def citations_for(answer: str, hits: Sequence[CitableHit]) -> tuple[Citation, ...]:
    """The passages (``hits`` numbered from 1, as in the sources block) that ``answer`` cites."""
    citations = []
    for number in cited_numbers(answer):
        if 1 <= number <= len(hits):
            hit = hits[number - 1]
            citations.append(
                Citation(
                    number=number,
                    document_id=hit.document_id,
                    title=hit.title,
                    page=hit.page,
                    snippet=_snippet(hit.text),
                )
            )
    return tuple(citations)


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    if len(flat) <= SNIPPET_CHARS:
        return flat
    return flat[:SNIPPET_CHARS].rsplit(" ", 1)[0] + "…"


class CitableHit(Protocol):
    """What ``citations_for`` reads from a search hit (``core.kb.SearchHit`` has these)."""

    @property
    def document_id(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def page(self) -> int | None: ...
    @property
    def text(self) -> str: ...
