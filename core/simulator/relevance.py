"""How well each piece of the retrieved passages answers the question.

A piece scores by the question's content words it contains, each weighted by its rarity across
the pieces (so "return" counts little in a returns article), plus, at ``CONTEXT_WEIGHT``, those
found only in its heading, in the sentence introducing its list or in its table's column names,
and at ``TITLE_WEIGHT`` those found only in its source's title. A heading that says "not" is
no context for a question that does not ("What's not covered" does not answer "Is it
covered?"). Two question words that stand next to each other and do so in the piece too
("payment methods") add ``PAIR_BONUS``. Then the kind of piece: steps and list items suit "how
do I"; list items, table rows and sentences naming several things suit "which…"; a piece
holding the amount or duration asked for counts ``SHAPE_FACTOR`` times and one without it
``UNSHAPED_FACTOR`` times, a table row holding it in a column named for it ("Price", "Return
window") a further ``COLUMN_FACTOR`` times; a pointer to another article counts
``POINTER_FACTOR`` times. Each piece is also scored for each part of the question, so an
answer can take the best piece per part.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from core.simulator.passages import Kind, Unit, read_units
from core.simulator.question import (
    Ask,
    Question,
    enumerates,
    pairs_of,
    says_not,
)
from core.simulator.sources import Source
from core.simulator.words import content_stems, content_words

CONTEXT_WEIGHT = 0.7
TITLE_WEIGHT = 0.3
PAIR_BONUS = 1.0
SHAPE_FACTOR = 1.4
UNSHAPED_FACTOR = 0.7
COLUMN_FACTOR = 1.3
POINTER_FACTOR = 0.5
OFF_TOPIC_FACTOR = 0.5
_POINTER = re.compile(
    r"\b(this (article|guide|page)|article|pdf|see \"|see “|(table|list) (below|above))",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Evidence:
    """One piece of a passage: its score for the whole question and for each part, its place
    in reading order, and the question's words it speaks to."""

    source: Source
    unit: Unit
    score: float
    part_scores: tuple[float, ...]
    position: int
    matched: frozenset[str]

    @property
    def sentence(self) -> str:
        return self.unit.text


@dataclass(frozen=True)
class Rarity:
    """How rare each word is among the pieces: ``log(1 + pieces / (1 + pieces holding it))``."""

    counts: Counter[str]
    pieces: int

    def weight(self, stems: Iterable[str]) -> float:
        return sum(math.log(1 + self.pieces / (1 + self.counts[stem])) for stem in stems)


@dataclass(frozen=True)
class Ranking:
    """The pieces that share something with the question, best first (ties in reading
    order), and how rare each word is."""

    question: Question
    evidence: tuple[Evidence, ...]
    rarity: Rarity

    def coverage(self, chosen: Iterable[Evidence]) -> float:
        """Share of the question's word weight that ``chosen`` speaks to: low when only a
        common word such as "return" matches."""
        matched = frozenset().union(*(evidence.matched for evidence in chosen))
        total = self.rarity.weight(self.question.stems)
        return self.rarity.weight(matched) / total if total else 0.0


def rank_evidence(question: Question, sources: list[Source]) -> Ranking:
    """Score every piece of ``sources`` for ``question``."""
    candidates = [(source, unit) for source in sources for unit in read_units(source.text)]
    counts = Counter(stem for _, unit in candidates for stem in content_stems(unit.text))
    rarity = Rarity(counts, len(candidates))
    affinity = _affinities(question, rarity, sources)
    ranked = []
    for position, (source, unit) in enumerate(candidates):
        score = _score(question, rarity, source, unit) * affinity[source.number]
        if score > 0:
            parts = tuple(
                _score(part, rarity, source, unit) * affinity[source.number]
                for part in question.parts
            )
            matched = question.stems & _words_of(source, unit, question)
            ranked.append(Evidence(source, unit, score, parts, position, matched))
    ranked.sort(key=lambda evidence: (-evidence.score, evidence.position))
    return Ranking(question, tuple(ranked), rarity)


def _score(question: Question, rarity: Rarity, source: Source, unit: Unit) -> float:
    stems = question.stems
    own_words = content_words(unit.own_text)
    own = set(own_words)
    context_text = _context_text(unit, question)
    context = content_stems(context_text) - own
    title = content_stems(source.title) - own - context
    score = rarity.weight(stems & own) + CONTEXT_WEIGHT * rarity.weight(stems & context)
    score += TITLE_WEIGHT * rarity.weight(stems & title)
    if score == 0:
        return 0.0
    nearby = pairs_of(own_words) | pairs_of(content_words(context_text))
    score += PAIR_BONUS * len(question.pairs & nearby)
    return score * _fit(question, unit)


def _affinities(question: Question, rarity: Rarity, sources: list[Source]) -> dict[int, float]:
    """Per passage, how much its pieces count: fully for the passages whose titles say most of
    what the question is about ("Shipping Options and Costs" for "How much does shipping
    cost?"), down to ``OFF_TOPIC_FACTOR`` for those whose titles say none of it ("Return
    shipping costs" in "Returns Policy")."""
    shares = {}
    for source in sources:
        title = content_stems(source.title)
        total = rarity.weight(title)
        shares[source.number] = rarity.weight(title & question.stems) / total if total else 0.0
    most = max(shares.values(), default=0.0)
    if most == 0:
        return dict.fromkeys(shares, 1.0)
    return {n: OFF_TOPIC_FACTOR + (1 - OFF_TOPIC_FACTOR) * s / most for n, s in shares.items()}


def _fit(question: Question, unit: Unit) -> float:
    """How much the kind of piece suits what is asked."""
    factor = POINTER_FACTOR if is_pointer(unit) else 1.0
    if question.wants(Ask.STEPS) and unit.kind in (Kind.STEP, Kind.ITEM):
        factor *= SHAPE_FACTOR
    if question.wants(Ask.LIST) and (unit.kind is not Kind.SENTENCE or enumerates(unit.text)):
        factor *= SHAPE_FACTOR
    if question.wants_value:
        factor *= SHAPE_FACTOR if question.is_answered_by(unit.text) else UNSHAPED_FACTOR
    if question.wants_value and unit.row is not None and column_answers(question, unit):
        factor *= COLUMN_FACTOR
    return factor


def column_answers(question: Question, unit: Unit) -> bool:
    """A row whose column for the kind of value asked for holds one ("Price: $6.95")."""
    return unit.row is not None and any(
        question.names_value(name) and question.is_answered_by(cell)
        for name, cell in unit.row.columns()
    )


def is_pointer(unit: Unit) -> bool:
    """A sentence that sends the reader elsewhere ("see the … article", "the table below")."""
    return unit.kind is Kind.SENTENCE and _POINTER.search(unit.text) is not None


def _context_text(unit: Unit, question: Question) -> str:
    """Heading, list lead, the opening of its list item and column names, unless they say
    "not" and the question does not."""
    header = unit.row.header if unit.row else ()
    context = " ".join([unit.heading, unit.lead, unit.opening, *header])
    return "" if says_not(context) and not question.negated else context


def _words_of(source: Source, unit: Unit, question: Question) -> set[str]:
    return content_stems(f"{unit.own_text} {_context_text(unit, question)} {source.title}")
