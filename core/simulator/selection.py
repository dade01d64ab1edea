"""Choosing which ranked pieces an answer quotes.

``listed_group``: the list to give whole — the steps when "how do I…" is best answered by one;
for "which…", the best list or table named for what is asked ("payment methods"), else the one
the best piece belongs to. ``pick_overview`` for a short general question ("What is your
returns policy?"): the best piece of each of the first sections in reading order (articles lead
with what matters), shared between the passages, amounts and durations preferred.
``pick_answers`` otherwise: the best piece for each part of the question, then the next best
that speaks to what is asked; the best overall first, then the parts' pieces in order or, for a
question of one part, the rest in reading order. Both stop at
``MAX_SENTENCES`` pieces or about ``MAX_WORDS`` words, and skip pieces that repeat one chosen.
"""

from __future__ import annotations

import math

from core.simulator.passages import Kind, Unit
from core.simulator.question import Ask, Question, holds_value
from core.simulator.relevance import Evidence, Ranking, is_pointer
from core.simulator.words import content_stems

MAX_SENTENCES = 3
MAX_WORDS = 55
MIN_PART_SCORE = 1.0
"""A part of the question gets a piece of its own only when one scores this for it."""
PART_NEAR = 0.75
"""Pieces scoring this share of the best for a part answer it nearly as well; of those, the one
the whole question prefers is taken (unless one already chosen is preferred)."""
FLOOR = 0.5
"""Pieces scoring under this share of the best are not worth quoting."""
OVERVIEW_FLOOR = 0.35
FACT_FACTOR = 1.3
SAME_WORDS = 0.8
"""Pieces sharing this share of their words say the same thing; only one is quoted."""


def is_general(question: Question) -> bool:
    """A short question that names a topic and asks nothing in particular (not one asking
    yes or no: "Can I pay in instalments?")."""
    return not question.asks and not question.yes_no and len(question.stems) <= 2


def listed_group(question: Question, ranked: tuple[Evidence, ...]) -> Evidence | None:
    """A piece whose whole list or table answers the question, or None."""
    best = ranked[0]
    if best.unit.kind is Kind.STEP and question.wants(Ask.STEPS):
        return best
    if not question.wants(Ask.LIST):
        return None
    for evidence in ranked:
        if evidence.unit.kind is not Kind.SENTENCE and question.listed & _list_name(evidence.unit):
            return evidence
    return best if best.unit.kind is not Kind.SENTENCE else None


def pick_overview(ranking: Ranking) -> list[Evidence]:
    """For a general question: the best piece of each of the first sections."""
    ranked = ranking.evidence
    floor = ranked[0].score * OVERVIEW_FLOOR
    best: dict[tuple[int, int], tuple[float, Evidence]] = {}
    for evidence in ranked:
        if is_pointer(evidence.unit) or evidence.score < floor:
            continue
        key = (evidence.source.number, evidence.unit.section)
        value = evidence.score * (FACT_FACTOR if holds_value(evidence.sentence) else 1.0)
        if key not in best or value > best[key][0]:
            best[key] = (value, evidence)
    sections = sorted((evidence for _, evidence in best.values()), key=_reading_order)
    per_source = math.ceil(MAX_SENTENCES / len({evidence.source for evidence in sections}))
    chosen: list[Evidence] = []
    for evidence in sections:
        if sum(other.source == evidence.source for other in chosen) < per_source:
            chosen.append(evidence)
    return _within_budget(chosen[:MAX_SENTENCES])


def pick_answers(ranking: Ranking) -> list[Evidence]:
    """The best piece for each part of the question, then the next best that speaks to what
    is asked (not only to the story around it: "I returned a jacket last week")."""
    question, ranked = ranking.question, ranking.evidence
    chosen: list[Evidence] = []
    for part in range(len(question.parts) if len(question.parts) > 1 else 0):
        top = max(evidence.part_scores[part] for evidence in ranked)
        near = [e for e in ranked if e.part_scores[part] >= max(top * PART_NEAR, MIN_PART_SCORE)]
        near.sort(key=lambda e: -(e.part_scores[part] + e.score / 4))
        best = next((e for e in near if e not in chosen and _fits(e, chosen)), None)
        if best is not None and not any(e in chosen for e in near[: near.index(best)]):
            chosen.append(best)
    floor = ranked[0].score * FLOOR
    for evidence in ranked:
        if len(chosen) >= MAX_SENTENCES or evidence.score < floor:
            break
        asked = not question.parts or any(evidence.part_scores)
        if asked and evidence not in chosen and _fits(evidence, chosen):
            chosen.append(evidence)
    chosen.sort(key=lambda evidence: evidence is not ranked[0])
    if len(question.parts) <= 1:
        chosen[1:] = sorted(chosen[1:], key=_reading_order)
    return _within_budget(chosen)


def same_group(first: Evidence, second: Evidence) -> bool:
    """Both pieces come from the same paragraph, list or table."""
    return first.source == second.source and first.unit.group == second.unit.group


def distinct(first: str, second: str) -> bool:
    """The two texts do not say the same thing."""
    a, b = content_stems(first), content_stems(second)
    return not a or not b or len(a & b) / min(len(a), len(b)) < SAME_WORDS


def _list_name(unit: Unit) -> set[str]:
    return content_stems(f"{unit.heading} {unit.lead} {unit.row.header[0] if unit.row else ''}")


def _fits(evidence: Evidence, chosen: list[Evidence]) -> bool:
    """Says something the chosen pieces do not, and is not another sentence of a list item
    already quoted (the item's first sentence is quoted with each)."""
    return all(
        distinct(evidence.unit.own_text, other.unit.own_text) and not _same_item(evidence, other)
        for other in chosen
    )


def _same_item(first: Evidence, second: Evidence) -> bool:
    return (
        first.unit.kind is not Kind.SENTENCE
        and same_group(first, second)
        and first.unit.item == second.unit.item
    )


def _within_budget(chosen: list[Evidence]) -> list[Evidence]:
    kept: list[Evidence] = []
    words = 0
    for evidence in chosen:
        words += len(evidence.unit.own_text.split())
        if kept and words > MAX_WORDS:
            break
        kept.append(evidence)
    return kept


def _reading_order(evidence: Evidence) -> int:
    return evidence.position
