"""Offline answer scoring: groundedness, whether the question was answered, escalation.

``score_answer`` needs no model: it compares words. A sentence of the answer is *supported* when
most of its content words appear in one cited passage or tool result; groundedness is the share
of supported sentences. *Answered* is how many of the question's keywords the answer covers,
checked against what the question asks for (a time, a price, a number) and pulled down by
"I don't know" answers. An escalation lowers the score: the bot did not resolve it alone.
``build_judge_request``/``parse_judge_reply`` add an optional LLM judge the engine can route.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from core.providers.base import ChatMessage, ChatRequest
from core.providers.errors import MalformedResponse

GROUNDED_WEIGHT = 0.5
ANSWERED_WEIGHT = 0.5
ESCALATION_PENALTY = 0.2
SUPPORT_SHARE = 0.6
"""Share of a sentence's content words a single source must contain to support it."""
FULL_COVERAGE = 0.6
"""Share of question keywords covered that counts as fully answered."""
REFUSAL_CAP = 0.2
MISSING_SHAPE_FACTOR = 0.6
MIN_SENTENCE_WORDS = 3

_STOP_WORDS = frozenset(
    re.findall(
        r"\w+",
        "a about after all also am an and any are as at be been before being but by can could "
        "did do does doing for from get got had has have having he her here hi hello him his how "
        "i if in into is it its just let me more most my no not now of on or our out please "
        "should so some than thank thanks that the their them then there these they this those "
        "to too up us very was we were what when where which while who why will with would yes "
        "you your yours dear sure happy help glad hey okay ok long much many take need want know "
        "tell like",
    )
)
_REFUSALS = re.compile(
    r"(?i)\b(?:i (?:do not|don't|dont) know|i(?:'m| am) not sure|i (?:can't|cannot|could not|"
    r"couldn't) (?:find|answer|help|say)|no information|not able to (?:find|answer)|"
    r"unable to (?:find|answer)|i have no (?:details|data|information))\b"
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_CITATION = re.compile(r"\[\d+\]")
_WORD = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*")
_SHAPES: tuple[tuple[re.Pattern[str], re.Pattern[str], str], ...] = (
    (
        re.compile(r"(?i)\bhow (?:much|many)\b|\bcost|\bprice|\bfee\b"),
        re.compile(r"\d|\bfree\b"),
        "an amount",
    ),
    (
        re.compile(r"(?i)\bwhen\b|\bwhat time\b|\bhow long\b|\bhours\b"),
        re.compile(
            r"(?i)\d|\b(?:today|tomorrow|monday|tuesday|wednesday|thursday|friday|saturday|"
            r"sunday|mon|fri|sat|week|weeks|days?|hours?|minutes?)\b"
        ),
        "a time or duration",
    ),
)


@dataclass(frozen=True)
class QualityScore:
    """An answer's score in [0, 1] and the reasons behind it, in words an agent can read."""

    score: float
    groundedness: float
    answered: float
    escalated: bool
    reasons: tuple[str, ...]


def content_words(text: str) -> set[str]:
    """Lower-cased, lightly stemmed words of ``text`` without stop words or citation marks."""
    words = _WORD.findall(_CITATION.sub(" ", text.lower()))
    return {_stem(w) for w in words if w not in _STOP_WORDS}


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def split_sentences(text: str) -> list[str]:
    """The sentences and list items of ``text``."""
    return [s.strip(" -*•\t") for s in _SENTENCE_END.split(text) if s.strip(" -*•\t")]


def groundedness(answer: str, sources: Sequence[str]) -> tuple[float, str]:
    """Share of the answer's substantive sentences supported by one source, with a reason."""
    source_words = [content_words(s) for s in sources if s.strip()]
    sentences = [w for w in map(content_words, split_sentences(answer)) if len(w) >= 3]
    if not sentences:
        return 1.0, "no factual sentences to check"
    if not source_words:
        return 0.0, "nothing cited: no sentence can be checked against a source"
    supported = sum(
        any(len(words & source) >= SUPPORT_SHARE * len(words) for source in source_words)
        for words in sentences
    )
    share = supported / len(sentences)
    return share, f"{supported} of {len(sentences)} sentences supported by the cited sources"


def answered(question: str, answer: str) -> tuple[float, list[str]]:
    """How well the answer addresses the question's keywords and intent, with reasons."""
    keywords = content_words(question)
    answer_words = content_words(answer)
    reasons: list[str] = []
    if keywords:
        covered = len(keywords & answer_words)
        value = min(1.0, covered / (FULL_COVERAGE * len(keywords)))
        reasons.append(f"covers {covered} of {len(keywords)} question keywords")
    else:
        value = 1.0
    for asks, gives, what in _SHAPES:
        if asks.search(question) and not gives.search(answer):
            value *= MISSING_SHAPE_FACTOR
            reasons.append(f"the question asks for {what} and the answer gives none")
    if _REFUSALS.search(answer):
        value = min(value, REFUSAL_CAP)
        reasons.append("the answer says it does not know")
    return value, reasons


def score_answer(
    question: str,
    answer: str,
    passages: Sequence[str],
    *,
    tool_results: Sequence[str] = (),
    escalated: bool = False,
) -> QualityScore:
    """Score an answer offline from its cited ``passages`` and the ``tool_results`` it used.

    >>> score_answer("How long do refunds take?", "Refunds take 5-7 business days [1].",
    ...              ["Refunds take 5-7 business days after the item arrives."]).score
    1.0
    """
    grounded, grounded_reason = groundedness(answer, [*passages, *tool_results])
    coverage, answered_reasons = answered(question, answer)
    score = GROUNDED_WEIGHT * grounded + ANSWERED_WEIGHT * coverage
    reasons = [f"groundedness {grounded:.2f}: {grounded_reason}"]
    reasons.append(f"answered {coverage:.2f}: " + "; ".join(answered_reasons or ["small talk"]))
    if escalated:
        score -= ESCALATION_PENALTY
        reasons.append(f"escalated to a human agent (−{ESCALATION_PENALTY:.1f})")
    return QualityScore(
        score=round(min(1.0, max(0.0, score)), 4),
        groundedness=round(grounded, 4),
        answered=round(coverage, 4),
        escalated=escalated,
        reasons=tuple(reasons),
    )


JUDGE_INSTRUCTIONS = (
    "You grade a customer-support answer. Judge only from the sources given. Reply with JSON: "
    '{"grounded": 0..1 share of claims supported by the sources, "answered": 0..1 how fully the '
    'question is answered, "reasons": ["short reason", ...]}.'
)
JUDGE_SCHEMA = {
    "type": "json_schema",
    "json_schema": {
        "name": "answer_grade",
        "schema": {
            "type": "object",
            "properties": {
                "grounded": {"type": "number", "minimum": 0, "maximum": 1},
                "answered": {"type": "number", "minimum": 0, "maximum": 1},
                "reasons": {"type": "array", "items": {"type": "string"}},
            },
            "required": ["grounded", "answered", "reasons"],
            "additionalProperties": False,
        },
    },
}


def build_judge_request(
    question: str,
    answer: str,
    passages: Sequence[str],
    *,
    model: str,
    tool_results: Sequence[str] = (),
) -> ChatRequest:
    """A chat request asking ``model`` to grade the answer (send it through the router)."""
    sources = "\n\n".join(
        f"[{n}] {text}" for n, text in enumerate([*passages, *tool_results], start=1)
    )
    user = f"Question:\n{question}\n\nSources:\n{sources or '(none)'}\n\nAnswer:\n{answer}"
    return ChatRequest(
        model=model,
        messages=[
            ChatMessage(role="system", content=JUDGE_INSTRUCTIONS),
            ChatMessage(role="user", content=user),
        ],
        response_format=JUDGE_SCHEMA,
        temperature=0.0,
        max_tokens=300,
    )


def parse_judge_reply(text: str, *, escalated: bool = False) -> QualityScore:
    """Turn the judge's JSON reply into a ``QualityScore``; ``MalformedResponse`` if unreadable."""
    try:
        data = json.loads(text)
        grounded = _unit(data["grounded"])
        coverage = _unit(data["answered"])
        reasons = tuple(f"judge: {reason}" for reason in _strings(data["reasons"]))
    except (ValueError, TypeError, KeyError) as exc:
        raise MalformedResponse(
            "The judge model's reply was not the JSON grade we asked for; the offline score stands."
        ) from exc
    score = GROUNDED_WEIGHT * grounded + ANSWERED_WEIGHT * coverage
    score -= ESCALATION_PENALTY if escalated else 0.0
    return QualityScore(round(max(0.0, score), 4), grounded, coverage, escalated, reasons)


def _unit(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError(f"{value!r} is not a number between 0 and 1")
    return float(value)


def _strings(value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{value!r} is not a list of reasons")
    return value
