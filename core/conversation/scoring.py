"""The quality step of a turn: the offline score, an optional LLM judge, and the agents' flag.

Every answer gets ``core.quality.score_answer`` (no model needed). When ``engine.quality_judge``
asks for it, a model grades the answer too (``judge_quality`` span, a routed call): its grade
replaces the offline one, its verdict and reasons come first and the offline reasons follow. A
judge that fails or answers unreadably leaves the offline score standing. The ``score_quality``
span carries the score and every reason; a score under ``engine.low_quality_threshold`` flags
the conversation for the agent view.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import assert_never

from opentelemetry.trace import Span, Status, StatusCode

from core.conversation import history as store
from core.conversation.generation import Generation
from core.conversation.parts import EngineParts
from core.conversation.tracing import QUALITY_JUDGED, QUALITY_REASONS, QUALITY_SCORE, tracer
from core.conversation.turns import Quality
from core.errors import ProviderError
from core.quality import QualityScore, build_judge_request, parse_judge_reply, score_answer
from core.router import Router
from core.settings import QualityJudge
from observability import attributes as attr

LOW_QUALITY_REASON = "low quality score"


def score_turn(
    parts: EngineParts,
    *,
    conversation_id: str,
    question: str,
    generation: Generation,
    passages: Sequence[str],
    route: Sequence[str],
) -> Quality:
    """Score the answer ``generation`` holds against the passages it cites and its tools."""
    with tracer.start_as_current_span("score_quality") as span:
        tool_results = [step.result for step in generation.tool_steps]
        offline = score_answer(
            question,
            generation.text,
            passages,
            tool_results=tool_results,
            escalated=generation.escalated,
        )
        judged: QualityScore | None = None
        if should_judge(parts.settings.engine.quality_judge, simulated=generation.simulated):
            judged = judge_answer(
                parts.router,
                question,
                generation.text,
                passages,
                tool_results=tool_results,
                route=route,
                escalated=generation.escalated,
            )
        if judged is None:
            quality = Quality(round(offline.score, 3), offline.reasons)
        else:
            quality = Quality(round(judged.score, 3), (*judged.reasons, *offline.reasons))
        _settle(parts, span, conversation_id, quality, judged=judged is not None)
    return quality


def keep_score(parts: EngineParts, *, conversation_id: str, quality: Quality) -> Quality:
    """The score a replayed (cached) answer got when it was first given, recorded again."""
    with tracer.start_as_current_span("score_quality") as span:
        _settle(parts, span, conversation_id, quality, judged=False)
    return quality


def should_judge(mode: QualityJudge, *, simulated: bool | None) -> bool:
    """Whether the judge grades an answer that came from a simulated (or real) provider."""
    match mode:
        case QualityJudge.OFF:
            return False
        case QualityJudge.REAL_PROVIDERS:
            return simulated is False
        case QualityJudge.ALWAYS:
            return True
        case _:
            assert_never(mode)


def judge_answer(
    router: Router,
    question: str,
    answer: str,
    passages: Sequence[str],
    *,
    tool_results: Sequence[str],
    route: Sequence[str],
    escalated: bool,
) -> QualityScore | None:
    """The judge model's grade through ``router``; None (and an error span) if it had none."""
    with tracer.start_as_current_span("judge_quality") as span:
        request = build_judge_request(
            question, answer, passages, model=route[0], tool_results=tool_results
        )
        try:
            reply = router.chat(request, route, name="quality judge").response
            grade = parse_judge_reply(reply.text, escalated=escalated)
        except ProviderError as exc:
            span.set_attribute(attr.ERROR_TYPE, type(exc).__name__)
            span.set_status(Status(StatusCode.ERROR, str(exc)[:500]))
            return None
    verdict = (
        f"judged by {reply.model}: grounded {grade.groundedness:.2f}, answered {grade.answered:.2f}"
    )
    return replace(grade, reasons=(verdict, *grade.reasons))


def _settle(
    parts: EngineParts, span: Span, conversation_id: str, quality: Quality, *, judged: bool
) -> None:
    span.set_attributes(
        {
            QUALITY_SCORE: quality.score,
            QUALITY_REASONS: list(quality.reasons),
            QUALITY_JUDGED: judged,
        }
    )
    if quality.score < parts.settings.engine.low_quality_threshold:
        store.flag_conversation(parts.db, conversation_id, LOW_QUALITY_REASON)
