"""Every way a turn can fail ends in the apology, with the customer's words and the turn kept."""

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from opentelemetry.trace import StatusCode
from sqlmodel import Session

from core.conversation import (
    ConversationEngine,
    TurnRequest,
    TurnStatus,
    get_conversation,
    list_messages,
)
from core.conversation.engine import APOLOGY
from core.db.models import MessageRole, Order, OrderStatus
from core.errors import KnowledgeBaseError
from core.simulator import Fault, FaultKind
from tests.core.conversation.conftest import App, engine_with


def test_outage_while_summarising_a_long_conversation_apologises_and_keeps_the_message(
    fresh: App,
) -> None:
    customer = fresh.customer(10)
    engine = engine_with(fresh, context_budget_share=0.001)
    first = engine.send(TurnRequest(user_id=customer.id or 0, text="Do you ship to Canada?"))
    for text in ("How long does it take?", "And who pays customs?"):
        engine.send(
            TurnRequest(user_id=customer.id or 0, text=text, conversation_id=first.conversation_id)
        )
    fresh.spans.clear()
    fresh.services.faults.add(Fault(FaultKind.SERVER_ERROR))

    result = engine.send(
        TurnRequest(
            user_id=customer.id or 0,
            text="Can I get a refund on duties?",
            conversation_id=first.conversation_id,
        )
    )

    assert result.status is TurnStatus.FAILED
    assert result.text == APOLOGY
    assert result.error and "Every model in the route failed" in result.error
    stored = list_messages(fresh.services.db, first.conversation_id)
    assert [m.content for m in stored[-2:]] == ["Can I get a refund on duties?", APOLOGY]
    assert stored[-1].error == result.error and stored[-1].id == result.message_id
    assert (
        "provider outage" in get_conversation(fresh.services.db, first.conversation_id).flag_reasons
    )
    spans = {s.name: s for s in fresh.finished_spans(result.trace_id)}
    assert spans["context_budget"].status.status_code is StatusCode.ERROR
    assert spans["turn"].status.status_code is StatusCode.ERROR
    assert spans["turn"].end_time is not None


def test_outage_after_a_confirmed_cancellation_keeps_the_tool_step_and_says_it_is_done(
    fresh: App,
) -> None:
    order = _processing_order(fresh)
    asked = fresh.services.engine.send(
        TurnRequest(user_id=order.user_id, text=f"Please cancel my order {order.number}")
    )
    assert asked.pending_action is not None
    fresh.services.faults.add(Fault(FaultKind.SERVER_ERROR))

    result = fresh.services.engine.confirm_action(asked.pending_action.id, order.user_id)

    assert result.status is TurnStatus.FAILED
    assert result.text.startswith(f"Done: Cancel {order.number}")
    assert [(s.name, s.ok) for s in result.tool_steps] == [("cancel_order", True)]
    row = list_messages(fresh.services.db, result.conversation_id)[-1]
    assert [call["name"] for call in row.tool_calls] == ["cancel_order"]
    with Session(fresh.services.db) as session:
        assert session.get(Order, order.id).status is OrderStatus.CANCELLED  # type: ignore[union-attr]


class _BrokenKnowledgeBase:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def search(self, *args: Any, **kwargs: Any) -> Any:
        raise self.error


@pytest.mark.parametrize(
    "error",
    [KnowledgeBaseError("Qdrant did not answer."), RuntimeError("a bug in retrieval")],
    ids=["ours", "a bug"],
)
def test_a_step_that_breaks_ends_in_the_apology_with_the_message_kept(
    fresh: App, error: Exception
) -> None:
    customer = fresh.customer(11)
    parts = fresh.services.engine.parts
    engine = ConversationEngine(replace(parts, kb=_BrokenKnowledgeBase(error)))  # type: ignore[arg-type]

    result = engine.send(TurnRequest(user_id=customer.id or 0, text="Do you price match?"))

    assert result.status is TurnStatus.FAILED and result.text == APOLOGY
    assert result.error is not None and str(error) in result.error
    stored = list_messages(fresh.services.db, result.conversation_id)
    assert [(m.role, m.content) for m in stored] == [
        (MessageRole.USER, "Do you price match?"),
        (MessageRole.ASSISTANT, APOLOGY),
    ]
    turn = next(s for s in fresh.finished_spans(result.trace_id) if s.name == "turn")
    assert turn.status.status_code is StatusCode.ERROR
    assert turn.attributes is not None and turn.attributes["error.type"] == type(error).__name__
    assert "turn failed" in get_conversation(fresh.services.db, result.conversation_id).flag_reasons
    assert result.cost_usd == Decimal(0)


def _processing_order(app: App) -> Order:
    from sqlmodel import select

    with Session(app.services.db) as session:
        order = session.exec(
            select(Order).where(Order.status == OrderStatus.PROCESSING).order_by(Order.id.desc())  # type: ignore[union-attr]
        ).first()
    assert order is not None
    return order
