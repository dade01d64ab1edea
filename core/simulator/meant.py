"""Answers chosen by meaning: the passage pieces nearest the question, quoted and cited.

Every piece of the retrieved passages (``passages.read_units``: sentences, list items, table rows
as sentences) is embedded with its heading and compared with the question
(``meaning.similarities``), plus a share of its word relevance (``LEXICAL_WEIGHT``); a piece
holding the kind of value asked for ("how long" → a duration, "how much" → an amount) gains
``SHAPE_BONUS`` and one without it loses ``UNSHAPED_PENALTY``; when the customer asks how long
*they* have ("How long have I got to send it back?"), a piece about what *we* do in that time
("We issue your refund within…") loses ``OTHER_ACTOR_PENALTY``. When the value is asked about a
doing ("How long do I have to return a jacket?") and some piece holds one about it ("return
window 30 days"), a piece whose value is about something else (the jacket's warranty) counts
as holding none, and those about the doing gain ``ACTION_BONUS``; a value counted from the doing
("refund within 5–7 days after the item reaches the warehouse" for "how long do returns take to
reach it?") is about something else. A piece of an article whose
title names what the question is about ("Contact Support and Hours" for "opening hours") gains
``TITLE_BONUS``; a table row holding the value in a column named for it ("Return window: 60
days" for "how many days do I get…") gains ``COLUMN_BONUS``. The best piece answers, in its
context (``cited.quote``); a second piece follows when it is nearly as close (``SECOND_SHARE``)
and says something else, so the fact asked for comes first, in one or two sentences, not in a
stitch of fragments. A key word of the question (one few pieces hold: "Sunday", "instalments",
"bring") that the chosen pieces leave out brings the closest piece that holds it, when that one
is at least ``COVER_SHARE`` as close and holds the kind of value asked for: "is anyone on live
chat on a Sunday?" gets the hours and the sentence about Sundays. No answer when even the best
piece is further than ``MIN_SIMILARITY``.
"""

from __future__ import annotations

import re
from collections import Counter

from core.simulator.meaning import similarities
from core.simulator.passages import Kind, Unit, read_units
from core.simulator.question import Question, read_question
from core.simulator.relevance import Evidence, column_answers
from core.simulator.selection import MAX_SENTENCES, distinct
from core.simulator.sources import Source
from core.simulator.words import content_stems

MIN_SIMILARITY = 0.35
SHAPE_BONUS = 0.08
UNSHAPED_PENALTY = 0.12
OTHER_ACTOR_PENALTY = 0.12
ACTION_BONUS = 0.08
TITLE_BONUS = 0.1
COLUMN_BONUS = 0.08
_PAGE_KINDS = frozenset(content_stems("policy terms conditions guide article faq overview"))
"""Title words naming a kind of page, not a topic ("Returns Policy")."""
SECOND_SHARE = 0.93
COVER_SHARE = 0.5
KEY_PIECES = 3
"""A question word held by at most this many pieces is a key word of the question."""
_OUR_DOING = re.compile(r"^(?:we|our|a team lead|agents?|the carrier)\b", re.IGNORECASE)
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
    leads = _leads([(source, unit) for source, unit, _ in pieces])
    texts = [
        _embedded_text(source, unit.heading, lead, unit.text)
        for (source, unit, _), lead in zip(pieces, leads, strict=True)
    ]
    closeness = similarities(question_text, texts)
    held = [
        frozenset(content_stems(_piece_words(source, unit.heading, lead, unit.text)))
        for (source, unit, _), lead in zip(pieces, leads, strict=True)
    ]
    action = _action_told(question, [unit.text for _, unit, _ in pieces], held)
    ranked = []
    for (source, unit, position), score, words_held in zip(pieces, closeness, held, strict=True):
        words = LEXICAL_WEIGHT * lexical.get(position, 0.0) / top
        shape = _shape(question, unit.text, words_held if action else None)
        titled = TITLE_BONUS if question.stems & _topic_of(source) else 0.0
        column = COLUMN_BONUS if question.wants_value and column_answers(question, unit) else 0.0
        total = float(score) + shape + _actor(question, unit.text) + words + titled + column
        ranked.append(Evidence(source, unit, total, (), position, question.stems & words_held))
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
    chosen = [best]
    for evidence in ranked[1:4]:
        if evidence.score < best.score * SECOND_SHARE:
            break
        if _fits(evidence, chosen):
            chosen.append(evidence)
            break
    return chosen + _covering(read_question(question_text), ranked, chosen)


def _covering(question: Question, ranked: list[Evidence], chosen: list[Evidence]) -> list[Evidence]:
    """For each key word of the question the chosen pieces leave out, the closest piece that
    holds it, if close enough and holding the kind of value asked for."""
    holders = Counter(stem for evidence in ranked for stem in evidence.matched)
    said = set().union(*(evidence.matched for evidence in chosen))
    added: list[Evidence] = []
    for stem in sorted(question.stems - said, key=lambda stem: holders[stem]):
        if not 0 < holders[stem] <= KEY_PIECES or len(chosen) + len(added) >= MAX_SENTENCES:
            continue
        cover = next(evidence for evidence in ranked if stem in evidence.matched)
        shaped = not question.wants_value or (
            question.is_answered_by(cover.sentence) and question.action <= cover.matched
        )
        close = cover.score >= max(ranked[0].score * COVER_SHARE, MIN_SIMILARITY)
        if shaped and close and _fits(cover, chosen + added):
            added.append(cover)
            said |= cover.matched
    return added


def _fits(evidence: Evidence, chosen: list[Evidence]) -> bool:
    """Says something the chosen pieces do not, and is not another sentence of a list item
    or row already quoted (sentences of one paragraph are separate pieces)."""
    return all(
        distinct(other.sentence, evidence.sentence) and not _same_item(evidence, other)
        for other in chosen
    )


def _same_item(first: Evidence, second: Evidence) -> bool:
    return first.unit.kind is not Kind.SENTENCE and (
        first.source.number,
        first.unit.group,
        first.unit.item,
    ) == (second.source.number, second.unit.group, second.unit.item)


def _action_told(question: Question, texts: list[str], held: list[frozenset[str]]) -> bool:
    """Some piece holds the kind of value asked for about the doing asked about ("return
    window 30 days" for "how long do I have to return…")."""
    return bool(question.action) and any(
        question.action <= words and question.is_answered_by(text)
        for text, words in zip(texts, held, strict=True)
    )


def _shape(question: Question, text: str, held: frozenset[str] | None) -> float:
    """The bonus for holding the kind of value asked for, the penalty for not; with ``held``
    (when some piece holds a value about the doing asked about), a value about something else
    (a warranty's "2 years" for "how long do I have to return…") counts as none, and one
    about the doing gains ``ACTION_BONUS`` more."""
    if not question.wants_value:
        return 0.0
    if not question.is_answered_by(text):
        return -UNSHAPED_PENALTY
    if held is None:
        return SHAPE_BONUS
    about = question.action <= held and not question.counts_from(text)
    return SHAPE_BONUS + ACTION_BONUS if about else -UNSHAPED_PENALTY


def _actor(question: Question, text: str) -> float:
    """A penalty for what we do in a time when the customer asks for their own window."""
    return -OTHER_ACTOR_PENALTY if question.own_window and _OUR_DOING.match(text) else 0.0


def _topic_of(source: Source) -> set[str]:
    return content_stems(source.title) - _PAGE_KINDS


def _leads(pieces: list[tuple[Source, Unit]]) -> list[str]:
    """What each piece is read under: its list's or table's lead and, for a later sentence of
    a list item or step, the item's opening sentence."""
    return [" ".join(filter(None, (unit.lead, unit.opening))) for _, unit in pieces]


def _piece_words(source: Source, heading: str, lead: str, text: str) -> str:
    return f"{source.title} {heading} {lead} {text}"


def _embedded_text(source: Source, heading: str, lead: str, text: str) -> str:
    context = heading or source.title
    return f"{context}. {lead} {text}" if lead else f"{context}. {text}"
