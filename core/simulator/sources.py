"""Reading the ``<sources>`` block of a system prompt and picking the sentences that answer.

The block is the knowledge base's format::

    <sources>
    [1] Returns policy — p.2
    text…

    [2] Shipping
    text…
    </sources>

Pieces (``passages``) are ranked by lexical overlap with the question (word stems weighted by
rarity across all pieces), which is enough to quote the right lines of a short retrieved set.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from core.simulator.passages import read_units
from core.simulator.words import content_stems, normalise_apostrophes

_BLOCK = re.compile(r"<sources>(.*?)</sources>", re.DOTALL | re.IGNORECASE)
_HEADER = re.compile(r"^\[(\d+)\]\s*(.*)$", re.MULTILINE)
_PARAPHRASES = {
    "send back": "return",
    "sending back": "return",
    "bring back": "return",
    "money back": "refund",
    "my money": "refund",
    "reimburs": "refund",
    "deliver": "shipping",
    "arrive": "shipping",
    "postage": "shipping",
    "ship": "shipping",
    "cost": "price fee",
    "how much": "price fee cost",
    "how long": "days",
    "open": "hours",
    "talk to": "agent",
    "speak to": "agent",
    "person": "agent",
    "human": "agent",
    "broke": "warranty repair",
    "broken": "warranty repair",
    "faulty": "warranty defect",
    "swap": "exchange",
    "wrong size": "exchange size",
    "member": "trail club",
    "book": "appointment",
    "carrier": "ship",
    "slot": "appointment",
    "fitting": "appointment fitting",
}


@dataclass(frozen=True)
class Source:
    number: int
    title: str
    text: str


@dataclass(frozen=True)
class Evidence:
    """One sentence chosen to answer, with the source it came from."""

    source: Source
    sentence: str
    score: float
    position: int


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


def select_evidence(question: str, sources: list[Source], limit: int = 3) -> list[Evidence]:
    """Up to ``limit`` sentences that share the most (rare) words with the question, in the
    order the sources give them, leaving out weak matches (under half the best score) and
    near-identical sentences."""
    candidates = [(source, s) for source in sources for s in split_sentences(source.text)]
    if not candidates:
        return []
    wanted = content_stems(expand_question(question))
    frequency = Counter(stem for _, s in candidates for stem in content_stems(s))
    total = len(candidates)
    scored = []
    for position, (source, sentence) in enumerate(candidates):
        overlap = wanted & content_stems(sentence)
        score = sum(math.log(1 + total / frequency[stem]) for stem in overlap)
        if score > 0:
            scored.append((score, -position, Evidence(source, sentence, score, position)))
    scored.sort(key=lambda item: (item[0], item[1]), reverse=True)
    chosen: list[Evidence] = []
    floor = scored[0][0] * 0.5 if scored else 0.0
    for _, _, evidence in (item for item in scored if item[0] >= floor):
        if all(_distinct(evidence.sentence, other.sentence) for other in chosen):
            chosen.append(evidence)
        if len(chosen) == limit:
            break
    return sorted(chosen, key=lambda evidence: evidence.position)


def expand_question(question: str) -> str:
    """The question with everyday phrases ("send back", "money back") followed by the words
    help-centre articles use for them ("return", "refund"). The words of a phrase of several
    words are taken out: on their own they mean something else (the "back" of a card)."""
    lowered = normalise_apostrophes(question.lower())
    kept = lowered
    extra = []
    for phrase, words in _PARAPHRASES.items():
        parts = phrase.split()
        if all(re.search(rf"\b{part}", lowered) for part in parts):
            extra.append(words)
            if len(parts) > 1:
                kept = re.sub(rf"\b({'|'.join(parts)})\w*", " ", kept)
    return " ".join([kept, *extra])


def _distinct(first: str, second: str) -> bool:
    a, b = content_stems(first), content_stems(second)
    return not a or not b or len(a & b) / min(len(a), len(b)) < 0.8
