"""The steps of a turn seen from the engine: rate limit, budgeting, tool loop, quality."""

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from core.conversation import (
    ConversationEngine,
    QueueFilter,
    TurnRequest,
    TurnStatus,
    get_conversation,
    list_messages,
    list_queue,
    record_feedback,
)
from core.db.models import MessageRole, Order
from core.providers.base import ChatChunk, ChatRequest, ChatResponse, ToolCall
from core.ratelimit import RateLimiter, RatePolicy, list_rate_limit_hits
from core.router import RoutedResponse, Router
from core.settings import QualityJudge
from tests.core.conversation.conftest import App, engine_with


def test_a_customer_over_the_limit_is_told_how_long_to_wait_and_nothing_is_lost(
    fresh: App,
) -> None:
    customer = fresh.customer(14)
    limiter = RateLimiter(RatePolicy(per_minute=1, burst=1), engine=fresh.services.db)
    engine = engine_with(fresh, limiter=limiter)
    first = engine.send(TurnRequest(user_id=customer.id or 0, text="Do you ship to Canada?"))

    second = engine.send(
        TurnRequest(
            user_id=customer.id or 0,
            text="And to Mexico?",
            conversation_id=first.conversation_id,
        )
    )

    assert first.status is TurnStatus.ANSWERED
    assert second.status is TurnStatus.RATE_LIMITED
    assert "Please wait 1 minute" in second.text and "nothing you wrote is lost" in second.text
    stored = list_messages(fresh.services.db, first.conversation_id)
    assert [(m.role, m.content) for m in stored][-1] == (MessageRole.USER, "And to Mexico?")
    since = datetime.now(UTC) - timedelta(minutes=1)
    assert list_rate_limit_hits(fresh.services.db, since, user_id=customer.id)
    limit = next(s for s in fresh.finished_spans(second.trace_id) if s.name == "rate_limit")
    assert limit.attributes is not None
    assert limit.attributes["observatory.rate_limit.allowed"] is False
    assert 50 < limit.attributes["observatory.rate_limit.retry_after_s"] <= 60  # type: ignore[operator]


def test_a_long_conversation_is_summarised_and_the_tokens_saved_are_recorded(fresh: App) -> None:
    customer = fresh.customer(15)
    engine = engine_with(fresh, context_budget_share=0.001)
    first = engine.send(TurnRequest(user_id=customer.id or 0, text="Do you ship to Canada?"))
    for text in ("How long does it take?", "Who pays customs?", "Can I track it?"):
        last = engine.send(
            TurnRequest(user_id=customer.id or 0, text=text, conversation_id=first.conversation_id)
        )

    spans = fresh.finished_spans(last.trace_id)
    budget = next(s for s in spans if s.name == "context_budget")
    assert budget.attributes is not None
    assert budget.attributes["observatory.context.summarised_messages"] == 1
    assert budget.attributes["observatory.context.tokens_saved"] > 0  # type: ignore[operator]
    summary_call = next(s for s in spans if s.name == "summarise conversation")
    assert summary_call.parent is not None
    assert summary_call.parent.span_id == budget.context.span_id
    stored = list_messages(fresh.services.db, first.conversation_id)
    summaries = [m for m in stored if m.role is MessageRole.SYSTEM]
    assert len(summaries) == 1 and summaries[0].summary_through_id == stored[0].id
    answer_request = fresh.recorder.requests[-1].text
    assert "Summary of the earlier conversation" in answer_request


class _AlwaysAsksForTools:
    """A model that asks for the order's status every time it is offered tools."""

    def __init__(self, router: Router, order_number: str) -> None:
        self._router = router
        self.order_number = order_number
        self.requests: list[ChatRequest] = []

    def stream(self, request: ChatRequest, route: list[str], **kwargs: Any) -> Iterator[Any]:
        self.requests.append(request)
        if not request.tools:
            yield from self._router.stream(request, route, **kwargs)
            return
        call = ToolCall(
            f"call_{len(self.requests)}", "get_order_status", {"order_number": self.order_number}
        )
        yield ChatChunk("")
        yield RoutedResponse(
            ChatResponse("", [call], route[0], "openai", 30, 8, 0, "tool_calls", True), []
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self._router, name)


def test_a_model_that_keeps_asking_for_tools_is_stopped_after_the_last_round(fresh: App) -> None:
    with Session(fresh.services.db) as session:
        order = session.exec(select(Order).order_by(Order.id)).first()  # type: ignore[arg-type]
    assert order is not None
    looping = _AlwaysAsksForTools(fresh.services.router, order.number)
    base = engine_with(fresh, max_tool_rounds=3)
    engine = ConversationEngine(replace(base.parts, router=looping))  # type: ignore[arg-type]

    result = engine.send(TurnRequest(user_id=order.user_id, text=f"Track {order.number}"))

    assert result.status is TurnStatus.ANSWERED and result.text
    assert [step.name for step in result.tool_steps] == ["get_order_status"] * 3
    assert [bool(r.tools) for r in looping.requests] == [True, True, True, False]
    tools = [s for s in fresh.finished_spans(result.trace_id) if s.name.startswith("execute_tool")]
    assert len(tools) == 3


def test_a_low_score_flags_the_conversation_for_agents_with_its_reasons(fresh: App) -> None:
    customer = fresh.customer(16)

    result = fresh.services.engine.send(
        TurnRequest(user_id=customer.id or 0, text="What's the weather on Mars?")
    )

    assert result.quality is not None and result.quality.score < 0.5
    conversation = get_conversation(fresh.services.db, result.conversation_id)
    assert "low quality score" in conversation.flag_reasons
    queue = list_queue(fresh.services.db, QueueFilter.LOW_QUALITY, limit=500)
    assert result.conversation_id in {row.conversation_id for row in queue}
    answer = list_messages(fresh.services.db, result.conversation_id)[-1]
    assert answer.quality_reasons == list(result.quality.reasons)
    assert any("groundedness" in reason for reason in answer.quality_reasons)
    scored = next(s for s in fresh.finished_spans(result.trace_id) if s.name == "score_quality")
    assert scored.attributes is not None
    assert scored.attributes["observatory.quality.score"] == result.quality.score
    assert tuple(scored.attributes["observatory.quality.reasons"]) == result.quality.reasons  # type: ignore[arg-type]
    assert scored.attributes["observatory.quality.judged"] is False


def test_a_thumbs_down_flags_the_conversation_for_agents(fresh: App) -> None:
    customer = fresh.customer(16)
    result = fresh.services.engine.send(
        TurnRequest(user_id=customer.id or 0, text="How long do refunds take?")
    )

    record_feedback(fresh.services.db, result.message_id or 0, -1, user_id=customer.id)

    conversation = get_conversation(fresh.services.db, result.conversation_id)
    assert "negative feedback" in conversation.flag_reasons
    queue = list_queue(fresh.services.db, QueueFilter.NEGATIVE_FEEDBACK, limit=500)
    assert result.conversation_id in {row.conversation_id for row in queue}


def test_the_judge_grades_answers_when_forced_even_on_the_simulator(fresh: App) -> None:
    customer = fresh.customer(17)
    engine = engine_with(fresh, quality_judge=QualityJudge.ALWAYS)

    result = engine.send(TurnRequest(user_id=customer.id or 0, text="How long do refunds take?"))

    spans = fresh.finished_spans(result.trace_id)
    judge = next(s for s in spans if s.name == "judge_quality")
    scored = next(s for s in spans if s.name == "score_quality")
    assert judge.parent is not None and judge.parent.span_id == scored.context.span_id
    judge_calls = [s for s in spans if s.name.startswith("chat ") and _under(s, judge, spans)]
    assert len(judge_calls) == 1
    assert scored.attributes is not None and scored.attributes["observatory.quality.judged"]
    assert result.quality is not None
    verdict = result.quality.reasons[0]
    assert verdict.startswith("judged by gpt-4o-mini") and ": grounded " in verdict
    assert any(reason.startswith("groundedness") for reason in result.quality.reasons[1:])


def test_the_judge_leaves_simulated_answers_alone_unless_forced(fresh: App) -> None:
    customer = fresh.customer(17)
    engine = engine_with(fresh, quality_judge=QualityJudge.REAL_PROVIDERS)

    result = engine.send(TurnRequest(user_id=customer.id or 0, text="Do you price match?"))

    names = [s.name for s in fresh.finished_spans(result.trace_id)]
    assert "score_quality" in names and "judge_quality" not in names


def _under(span: Any, ancestor: Any, spans: list[Any]) -> bool:
    by_id = {s.context.span_id: s for s in spans}
    parent = span.parent
    while parent is not None:
        if parent.span_id == ancestor.context.span_id:
            return True
        above = by_id.get(parent.span_id)
        parent = above.parent if above is not None else None
    return False
