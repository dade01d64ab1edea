import json
from decimal import Decimal

import pytest
from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode
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
from core.experiments import Variant, create_experiment
from core.simulator import Fault, FaultKind
from tests.core.conversation.conftest import App, children_of_turn


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
    create_experiment(
        fresh.services.db,
        "every-step",
        [Variant("control", weight=1), Variant("friendly", prompt="Be warm.", weight=1)],
    )

    result = fresh.services.engine.send(
        TurnRequest(
            user_id=customer.id or 0, text="Do you ship to Canada?", experiment="every-step"
        )
    )

    spans = fresh.finished_spans(result.trace_id)
    names = [span.name for span in spans]
    steps = [
        "assign_experiment",
        "rate_limit",
        "redact_pii",
        "save_message",
        "context_budget",
        "cache_lookup",
        "score_quality",
        "save_turn",
    ]
    assert all(names.count(step) == 1 for step in steps), names
    assert any(name.startswith("retrieval") for name in names)
    assert any(name.startswith("embeddings") for name in names)
    assert any(name.startswith("route ") for name in names)
    assert any(name.startswith("chat ") for name in names)
    assert len(children_of_turn(spans)) == len(spans) - 1, "every other span descends from turn"
    by_name = {span.name: span for span in spans}
    assert all(by_name[step].kind is SpanKind.INTERNAL for step in steps)
    turn = by_name["turn"]
    assert turn.end_time is not None and turn.status.status_code is StatusCode.OK
    assert turn.attributes is not None and turn.attributes["observatory.turn.status"] == "answered"
    assert by_name["rate_limit"].attributes["observatory.rate_limit.allowed"] is True  # type: ignore[index]
    assert by_name["save_turn"].attributes["observatory.message.id"] == result.message_id  # type: ignore[index]
    assert by_name["context_budget"].attributes["observatory.context.tokens"] > 0  # type: ignore[index]
    chat = next(s for s in spans if s.name.startswith("chat "))
    assert chat.attributes is not None
    assert chat.attributes["observatory.conversation.id"] == result.conversation_id
    assert chat.start_time is not None and turn.start_time is not None
    assert turn.start_time <= chat.start_time <= (turn.end_time or 0)


def test_spans_the_caller_makes_between_events_are_not_part_of_the_turn(
    fresh: App, caplog: pytest.LogCaptureFixture
) -> None:
    customer = fresh.customer(1)
    page = trace.get_tracer("tests.page")

    with page.start_as_current_span("page run") as page_span:
        for event in fresh.services.engine.stream(
            TurnRequest(user_id=customer.id or 0, text="How long does standard shipping take?")
        ):
            with page.start_as_current_span("render event"):
                pass
            if isinstance(event, TurnResult):
                result = event

    spans = fresh.finished_spans()
    turn = next(s for s in spans if s.name == "turn")
    rendered = [s for s in spans if s.name == "render event"]
    assert rendered and all(
        s.parent is not None and s.parent.span_id == page_span.get_span_context().span_id
        for s in rendered
    )
    assert turn.parent is not None and turn.parent.span_id == page_span.get_span_context().span_id
    assert format(turn.context.trace_id, "032x") == result.trace_id
    assert "Failed to detach context" not in caplog.text


def test_a_stream_closed_mid_answer_ends_the_turn_and_keeps_what_was_said(fresh: App) -> None:
    customer = fresh.customer(1)
    question = "What is your return window for boots?"
    events = fresh.services.engine.stream(TurnRequest(user_id=customer.id or 0, text=question))
    first = next(e for e in events if isinstance(e, TextDelta))

    events.close()

    turn = next(s for s in fresh.finished_spans() if s.name == "turn")
    assert turn.end_time is not None
    assert turn.status.status_code is StatusCode.ERROR
    assert turn.attributes is not None and turn.attributes["observatory.stream.closed_early"]
    conversation_id = str(turn.attributes["observatory.conversation.id"])
    stored = list_messages(fresh.services.db, conversation_id)
    assert [m.role for m in stored] == [MessageRole.USER, MessageRole.ASSISTANT]
    assert stored[0].content == question
    assert stored[1].content.startswith(first.text) and stored[1].error
    assert stored[1].trace_id == format(turn.context.trace_id, "032x")
    saved = next(s for s in fresh.finished_spans() if s.name == "save_turn")
    assert saved.parent is not None and saved.parent.span_id == turn.context.span_id


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
