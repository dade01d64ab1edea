import json
from decimal import Decimal

from sqlmodel import Session, select

from core.conversation import (
    Notice,
    TextDelta,
    ToolFinished,
    TurnRequest,
    TurnResult,
    TurnStatus,
    list_messages,
    record_feedback,
)
from core.conversation.engine import APOLOGY
from core.db.models import MessageRole, PiiAuditEvent
from core.simulator import Fault, FaultKind
from tests.core.conversation.conftest import App


def test_answer_streams_and_cites_the_help_centre(fresh: App) -> None:
    customer = fresh.customer(0)

    events = list(
        fresh.services.engine.stream(
            TurnRequest(user_id=customer.id or 0, text="What is your return window?")
        )
    )

    deltas = [e for e in events if isinstance(e, TextDelta)]
    result = events[-1]
    assert isinstance(result, TurnResult)
    assert len(deltas) > 3
    assert result.status is TurnStatus.ANSWERED
    assert "30 days" in result.text
    assert result.citations and "return" in result.citations[0].title.lower()
    assert result.simulated is True
    assert result.cost_usd is not None and result.cost_usd > 0
    stored = list_messages(fresh.services.db, result.conversation_id)
    assert [m.role for m in stored] == [MessageRole.USER, MessageRole.ASSISTANT]
    assert stored[1].trace_id == result.trace_id
    assert stored[1].citations[0]["title"] == result.citations[0].title


def test_every_step_of_a_turn_is_a_span_in_one_trace(fresh: App) -> None:
    customer = fresh.customer(1)

    result = fresh.services.engine.send(
        TurnRequest(user_id=customer.id or 0, text="Do you ship to Canada?")
    )

    names = {span.name for span in fresh.finished_spans(result.trace_id)}
    assert {"turn", "cache lookup"} <= names
    assert any(name.startswith("retrieval") for name in names)
    assert any(name.startswith("embeddings") for name in names)
    assert any(name.startswith("chat ") for name in names)
    chat = next(s for s in fresh.finished_spans(result.trace_id) if s.name.startswith("chat "))
    assert chat.attributes is not None
    assert chat.attributes["observatory.conversation.id"] == result.conversation_id


def test_order_question_runs_the_order_tool_for_that_customer(fresh: App) -> None:
    customer = fresh.customer(2)
    order = fresh.order_of(customer.id or 0)

    events = list(
        fresh.services.engine.stream(
            TurnRequest(user_id=customer.id or 0, text=f"Where is my order {order.number}?")
        )
    )

    finished = [e.step for e in events if isinstance(e, ToolFinished)]
    result = events[-1]
    assert isinstance(result, TurnResult)
    assert [step.name for step in finished] == ["get_order_status"]
    assert finished[0].ok
    assert order.number in result.text
    spans = fresh.finished_spans(result.trace_id)
    assert any(s.name == "execute_tool get_order_status" for s in spans)


def test_card_number_never_reaches_the_provider_a_span_or_a_row(fresh: App) -> None:
    customer = fresh.customer(3)
    card = "4111 1111 1111 1111"

    events = list(
        fresh.services.engine.stream(
            TurnRequest(user_id=customer.id or 0, text=f"Charge my card {card} for the tent please")
        )
    )

    result = events[-1]
    assert isinstance(result, TurnResult)
    assert any(isinstance(e, Notice) for e in events)
    bodies = json.dumps([r for r in fresh.recorder.requests], default=str)
    assert "4111" not in bodies and "[CARD]" in bodies
    for span in fresh.finished_spans():
        assert "4111 1111" not in json.dumps(dict(span.attributes or {}), default=str)
    stored = list_messages(fresh.services.db, result.conversation_id)
    assert "[CARD]" in stored[0].content and "4111" not in stored[0].content
    with Session(fresh.services.db) as session:
        events_stored = session.exec(
            select(PiiAuditEvent).where(PiiAuditEvent.conversation_id == result.conversation_id)
        ).all()
    assert [e.pii_type for e in events_stored] == ["CARD"]


def test_rate_limited_primary_falls_back_to_the_next_model(fresh: App) -> None:
    customer = fresh.customer(4)
    fresh.services.faults.add(Fault(FaultKind.RATE_LIMIT, model="gpt-4o-mini", times=10))

    result = fresh.services.engine.send(
        TurnRequest(user_id=customer.id or 0, text="What are your support hours?")
    )

    assert result.status is TurnStatus.ANSWERED
    assert result.model is not None and result.model.startswith("claude-haiku-4-5")
    assert result.fallbacks


def test_outage_of_every_provider_apologises_and_keeps_the_message(fresh: App) -> None:
    customer = fresh.customer(5)
    fresh.services.faults.add(Fault(FaultKind.SERVER_ERROR, times=100))

    result = fresh.services.engine.send(
        TurnRequest(user_id=customer.id or 0, text="Can I change my delivery address?")
    )

    assert result.status is TurnStatus.FAILED
    assert result.text == APOLOGY
    stored = list_messages(fresh.services.db, result.conversation_id)
    assert stored[0].content == "Can I change my delivery address?"
    assert stored[1].error


def test_identical_question_is_answered_from_the_cache_for_free(fresh: App) -> None:
    customer = fresh.customer(6)
    question = "Which payment methods do you accept?"

    first = fresh.services.engine.send(TurnRequest(user_id=customer.id or 0, text=question))
    second = fresh.services.engine.send(TurnRequest(user_id=customer.id or 0, text=question))

    assert not first.cached
    assert second.cached and second.cost_usd == Decimal(0)
    assert second.text == first.text


def test_claimed_conversation_waits_for_the_agent(fresh: App) -> None:
    customer = fresh.customer(7)
    engine, desk = fresh.services.engine, fresh.services.desk
    first = engine.send(TurnRequest(user_id=customer.id or 0, text="I want to speak to someone"))
    desk.claim(first.conversation_id, agent_id=1)

    second = engine.send(
        TurnRequest(user_id=customer.id or 0, text="Hello?", conversation_id=first.conversation_id)
    )
    desk.reply(first.conversation_id, 1, "Hi, this is Sam from support. How can I help?")

    assert second.status is TurnStatus.HANDED_TO_AGENT
    roles = [m.role for m in list_messages(fresh.services.db, first.conversation_id)]
    assert roles[-2:] == [MessageRole.USER, MessageRole.AGENT]


def test_thumbs_down_is_stamped_on_the_answers_trace(fresh: App) -> None:
    customer = fresh.customer(2)
    result = fresh.services.engine.send(
        TurnRequest(user_id=customer.id or 0, text="Do you price match?")
    )
    answer = list_messages(fresh.services.db, result.conversation_id)[-1]

    record_feedback(fresh.services.db, answer.id or 0, -1, user_id=customer.id)

    spans = fresh.finished_spans(result.trace_id)
    stamp = next(s for s in spans if s.name == "annotation feedback")
    turn = next(s for s in spans if s.name == "turn")
    assert stamp.attributes is not None
    assert stamp.attributes["observatory.annotation.value"] == -1
    assert turn.start_time is not None and turn.end_time is not None
    assert stamp.start_time is not None
    assert turn.start_time <= stamp.start_time <= turn.end_time
