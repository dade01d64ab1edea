"""Answers that quote and cite the retrieved passages, the way an agent who read them would.

No answer when even the best piece ``relevance`` ranks scores under ``MIN_EVIDENCE_SCORE``, or
the best few speak to less than ``MIN_COVERAGE`` of what the question is about: the sources do
not really answer, and the caller says so. Otherwise the pieces ``selection`` chooses: a whole
list of steps or of options under the sentence or heading that introduces it (also when the
chosen pieces are all rows of one table), followed by the best piece from elsewhere; or a few
sentences (for a short general question, the overview's, unless the piece closest in meaning
lies outside its sections: then the pieces closest in meaning). A table row keeps the columns
the question is about (in a list too, when it asks for an amount or a duration); a list item is
quoted with what it is an example of, or under its heading when that says "not" ("What's not
covered"); a sentence with the sentence it depends on (the opening of its list item, or the one
an "It"/"This" refers to). Every quoted piece ends with its passage's [n].
"""

from __future__ import annotations

import re

from core.simulator.meant import pick_by_meaning
from core.simulator.passages import Kind, Unit, read_units
from core.simulator.question import Question, read_question, says_not
from core.simulator.relevance import Evidence, rank_evidence
from core.simulator.selection import (
    MAX_SENTENCES,
    distinct,
    is_general,
    listed_group,
    pick_answers,
    pick_overview,
    same_group,
)
from core.simulator.sources import Source
from core.simulator.words import content_stems

MIN_EVIDENCE_SCORE = 1.5
"""Below this the sources do not really answer the question."""
MIN_COVERAGE = 0.25
MAX_ITEMS = 8
EXTRA_FLOOR = 0.6
"""A piece from elsewhere follows a list only when it scores this share of the best item."""
LABEL_WORDS = 5
_ANAPHOR = re.compile(r"^(it|this|that|they|these|those|them)\b", re.IGNORECASE)


def compose_cited_answer(question_text: str, sources: list[Source]) -> str | None:
    """An answer quoting and citing ``sources``, or None when they do not answer."""
    question = read_question(question_text)
    ranking = rank_evidence(question, sources)
    ranked = ranking.evidence
    if not ranked or ranked[0].score < MIN_EVIDENCE_SCORE:
        return None
    if ranking.coverage(ranked[:MAX_SENTENCES]) < MIN_COVERAGE:
        return None
    listed = listed_group(question, ranked)
    if listed is not None:
        return _list_answer(question, listed, ranked)
    lexical = {evidence.position: evidence.score for evidence in ranked}
    meant = pick_by_meaning(question_text, sources, lexical)
    chosen = pick_overview(ranking) if is_general(question) else []
    if not chosen or (meant and not any(_same_section(meant[0], e) for e in chosen)):
        chosen = meant or pick_answers(ranking)
    rows = [evidence for evidence in chosen if evidence.unit.row is not None]
    if len(rows) >= MAX_SENTENCES and all(same_group(rows[0], other) for other in rows):
        return _list_answer(question, rows[0], ranked)
    return " ".join(_quote(question, evidence) for evidence in chosen)


def _same_section(first: Evidence, second: Evidence) -> bool:
    return (first.source.number, first.unit.section) == (second.source.number, second.unit.section)


def _list_answer(question: Question, best: Evidence, ranked: tuple[Evidence, ...]) -> str:
    group = [u for u in read_units(best.source.text) if u.group == best.unit.group]
    items: dict[int, list[str]] = {}
    for unit in group:
        told = _row_sentence(question, unit) if unit.row and question.wants_value else unit.text
        items.setdefault(unit.item, []).append(told)
    intro = best.unit.lead or best.unit.heading or "Here is what our help centre says"
    numbered = best.unit.kind is Kind.STEP
    lines = [f"{intro} [{best.source.number}]:"]
    for index, sentences in enumerate(list(items.values())[:MAX_ITEMS], 1):
        lines.append(f"{f'{index}.' if numbered else '-'} {' '.join(sentences)}")
    text = "\n".join(lines)
    for evidence in ranked:
        if evidence.score < best.score * EXTRA_FLOOR:
            break
        if not same_group(evidence, best) and all(
            distinct(evidence.sentence, unit.text) for unit in group
        ):
            return f"{text}\n\n{_quote(question, evidence)}"
    return text


def _quote(question: Question, evidence: Evidence) -> str:
    unit = evidence.unit
    if unit.row is not None:
        return _cite(_row_sentence(question, unit), evidence.source.number)
    text = _in_context(evidence)
    if unit.kind is Kind.ITEM and unit.lead:
        text = f"{unit.lead}: {text}"
    elif unit.kind is Kind.ITEM and says_not(unit.heading) and not question.negated:
        text = f"{unit.heading}: {text}"
    return _cite(text, evidence.source.number)


def _in_context(evidence: Evidence) -> str:
    """The sentence with what it needs to be understood: a list item's opening sentence when it
    comes from the item's middle ("Once packed or shipped: we can't change it."), the sentence
    an "It", "This", "They"… refers to, and after a short label ("Inspection and refund.") the
    sentence the label is for."""
    unit = evidence.unit
    item = [
        u for u in read_units(evidence.source.text) if (u.group, u.item) == (unit.group, unit.item)
    ]
    place = item.index(unit)
    if unit.kind is not Kind.SENTENCE and place > 0:
        return _joined(item[0].text, unit.text)
    if unit.kind is not Kind.SENTENCE and len(item) > 1 and _is_label(unit.text):
        return _joined(unit.text, item[1].text)
    if place > 0 and _ANAPHOR.match(unit.text):
        return _joined(item[place - 1].text, unit.text)
    return unit.text


def _joined(first: str, second: str) -> str:
    return f"{first[:-1]}: {second}" if _is_label(first) else f"{first} {second}"


def _is_label(sentence: str) -> bool:
    return len(sentence.split()) <= LABEL_WORDS and sentence.endswith(".")


def _row_sentence(question: Question, unit: Unit) -> str:
    """The row naming only the columns that answer: those holding the amount or duration
    asked for, else those whose name or value the question mentions."""
    assert unit.row is not None
    shaped = any(question.is_answered_by(cell) for _, cell in unit.row.columns())

    def keep(name: str, cell: str) -> bool:
        if shaped:
            return question.is_answered_by(cell) or bool(content_stems(cell) & question.stems)
        return bool(content_stems(f"{name} {cell}") & question.stems)

    return unit.row.describe(keep)


def _cite(text: str, number: int) -> str:
    if text.endswith("?"):
        return f"{text} [{number}]."
    ending = "!" if text.endswith("!") else "."
    return f"{text.rstrip('.!')} [{number}]{ending}"
