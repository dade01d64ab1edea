"""Reading the ``<sources>`` block of a system prompt into numbered passages.

The block is the knowledge base's format::

    <sources>
    [1] Returns policy — p.2
    text…

    [2] Shipping
    text…
    </sources>

``passages`` reads each passage into quotable pieces and ``relevance`` ranks them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.simulator.passages import read_units

_BLOCK = re.compile(r"<sources>(.*?)</sources>", re.DOTALL | re.IGNORECASE)
_HEADER = re.compile(r"^\[(\d+)\]\s*(.*)$", re.MULTILINE)


@dataclass(frozen=True)
class Source:
    number: int
    title: str
    text: str


def parse_sources(system: str) -> list[Source]:
    """The numbered passages of the first ``<sources>`` block, in order; empty when none."""
    block = _BLOCK.search(system)
    if block is None:
        return []
    body = block.group(1)
    headers = list(_HEADER.finditer(body))
    sources = []
    for index, header in enumerate(headers):
        end = headers[index + 1].start() if index + 1 < len(headers) else len(body)
        text = body[header.end() : end].strip()
        sources.append(Source(int(header.group(1)), header.group(2).strip(), text))
    return sources


def strip_sources(system: str) -> str:
    """The system prompt without its ``<sources>`` block."""
    return _BLOCK.sub("", system).strip()


def split_sentences(text: str) -> list[str]:
    """Sentences of prose or Markdown that can answer something: headings and questions are
    left out, bullets and emphasis removed, and each row of a Markdown table becomes one
    sentence naming its columns."""
    return [unit.text for unit in read_units(text)]
