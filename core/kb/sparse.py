"""Keyword vectors for Qdrant's sparse index: hashed word stems with saturated term counts.

Qdrant multiplies by inverse document frequency itself (``Modifier.IDF``), so a document vector
holds only term weights and a query vector ones. Words are lower-cased, stop words dropped and
common English endings stripped, so "returns", "returned" and "returning" meet "return".
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from dataclasses import dataclass

_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_SATURATION = 1.2
_STOP_WORDS = frozenset(
    """a about above after again all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers him his how i if in into is it its itself just me more
    most my no nor not now of off on once only or other our ours out over own same she should so
    some such than that the their theirs them then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would you
    your yours""".split()  # noqa: SIM905 - a word list reads better as prose
)
_SUFFIXES = ("ations", "ation", "ings", "ing", "ies", "ied", "edly", "ed", "es", "ly", "s")


@dataclass(frozen=True)
class SparseVector:
    indices: list[int]
    values: list[float]


def stem(word: str) -> str:
    """A crude English stem: the longest listed ending stripped, leaving at least 3 letters."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)]
            return base + "y" if suffix in ("ies", "ied") else base
    return word


def terms(text: str) -> list[str]:
    """The stems of ``text``'s words that are not stop words, in order."""
    words = _WORD.findall(text.lower().replace("’", "'"))
    return [stem(word) for word in words if word not in _STOP_WORDS]


def term_id(term: str) -> int:
    """A stable 31-bit index for a term (CRC-32; collisions are rare and harmless)."""
    return zlib.crc32(term.encode("utf-8")) & 0x7FFFFFFF


def document_vector(text: str) -> SparseVector:
    """Term weights tf·(k+1)/(tf+k): repeated words count, with diminishing returns."""
    counts = Counter(term_id(term) for term in terms(text))
    ordered = sorted(counts.items())
    return SparseVector(
        [index for index, _ in ordered],
        [tf * (_SATURATION + 1) / (tf + _SATURATION) for _, tf in ordered],
    )


def query_vector(text: str) -> SparseVector:
    """Each distinct query term once, weight 1 (Qdrant adds the IDF)."""
    ids = sorted({term_id(term) for term in terms(text)})
    return SparseVector(ids, [1.0] * len(ids))


def keyword_spans(query: str, text: str) -> list[tuple[int, int]]:
    """Character spans of the words in ``text`` that match a query term (for highlighting)."""
    wanted = set(terms(query))
    lowered = text.lower().replace("’", "'")
    return [
        (m.start(), m.end())
        for m in _WORD.finditer(lowered)
        if m.group() not in _STOP_WORDS and stem(m.group()) in wanted
    ]
