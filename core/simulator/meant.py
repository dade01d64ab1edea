"""Answers chosen by meaning: the passage pieces nearest the question, quoted and cited.

Every piece of the retrieved passages (``passages.read_units``: sentences, list items, table rows
as sentences) is embedded with its heading and compared with the question
(``meaning.similarities``), plus a share of its word relevance (``LEXICAL_WEIGHT``); a piece
holding the kind of value asked for ("how long" → a duration, "how much" → an amount) gains
``SHAPE_BONUS``. The best piece answers, in its context
(``cited.quote``); a second piece follows when it is nearly as close (``SECOND_SHARE``) and says
something else, so the fact asked for comes first, in one or two sentences, not in a stitch of
fragments. No answer when even the best piece is further than ``MIN_SIMILARITY``.
"""

from __future__ import annotations

import re

from core.simulator.meaning import similarities
from core.simulator.passages import read_units
from core.simulator.question import Question, read_question
from core.simulator.relevance import Evidence
from core.simulator.selection import distinct
from core.simulator.sources import Source

MIN_SIMILARITY = 0.35
SHAPE_BONUS = 0.08
SECOND_SHARE = 0.93
MIN_PART_WORDS = 3
_PART_BREAK = re.compile(
    r"\?\s+|,?\s+and (?=(?:how|what|when|where|which|who|why|is|are|do|does|can|will)\b)|;\s+", re.I
)
LEXICAL_WEIGHT = 0.3
"""How much the pieces' shared rare words (``relevance``) count next to their meaning."""


def rank_by_meaning(
    question_text: str, sources: list[Source], lexical: dict[int, float] | None = None
) -> list[Evidence]:
    """Every piece of ``sources`` with its closeness to the question, closest first; with
    ``lexical`` (a word-relevance score per piece position) that adds ``LEXICAL_WEIGHT`` times
    its share of the best."""
    lexical = lexical or {}
    top = max(lexical.values(), default=0.0) or 1.0
    question = read_question(question_text)
    pieces = [
        (source, unit, position)
        for position, (source, unit) in enumerate(
            (source, unit) for source in sources for unit in read_units(source.text)
        )
    ]
    texts = [
        _embedded_text(source, unit.heading, unit.lead, unit.text) for source, unit, _ in pieces
    ]
    closeness = similarities(question_text, texts)
    ranked = []
    for (source, unit, position), score in zip(pieces, closeness, strict=True):
        words = LEXICAL_WEIGHT * lexical.get(position, 0.0) / top
        total = float(score) + _shape(question, unit.text) + words
        ranked.append(Evidence(source, unit, total, (), position, frozenset()))
    ranked.sort(key=lambda evidence: (-evidence.score, evidence.position))
    return ranked


def pick_by_meaning(
    question_text: str, sources: list[Source], lexical: dict[int, float] | None = None
) -> list[Evidence]:
    """The one or two pieces that answer a question asking one thing, or none when nothing is
    close enough (a question asking two things is left to the per-part word ranking, which
    takes the best piece for each part)."""
    if len(split_parts(question_text)) > 1:
        return []
    return _pick(question_text, sources, lexical)


def split_parts(question_text: str) -> list[str]:
    """A question asking two things ("Is shipping free, and which carriers do you use?") as its
    parts; otherwise the question itself."""
    pieces = [p.strip(" ,;") for p in _PART_BREAK.split(question_text) if p and p.strip(" ,;")]
    parts = [p for p in pieces if len(p.split()) >= MIN_PART_WORDS]
    return parts if len(parts) > 1 and len(parts) == len(pieces) else [question_text]


def _pick(
    question_text: str, sources: list[Source], lexical: dict[int, float] | None
) -> list[Evidence]:
    ranked = rank_by_meaning(question_text, sources, lexical)
    if not ranked or ranked[0].score < MIN_SIMILARITY:
        return []
    best = ranked[0]
    for evidence in ranked[1:4]:
        if evidence.score < best.score * SECOND_SHARE:
            break
        same_item = (evidence.source.number, evidence.unit.group, evidence.unit.item) == (
            best.source.number,
            best.unit.group,
            best.unit.item,
        )
        if not same_item and distinct(best.sentence, evidence.sentence):
            return [best, evidence]
    return [best]


def _shape(question: Question, text: str) -> float:
    return SHAPE_BONUS if question.wants_value and question.is_answered_by(text) else 0.0


def _embedded_text(source: Source, heading: str, lead: str, text: str) -> str:
    context = heading or source.title
    return f"{context}. {lead} {text}" if lead else f"{context}. {text}"
