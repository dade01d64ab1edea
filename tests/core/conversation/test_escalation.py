"""Escalation: the agent gets a validated hand-off summary on the ticket, made by a traced call."""

import jsonschema
from sqlmodel import Session, select

from core.conversation import TurnRequest
from core.conversation.escalation import HANDOFF_SCHEMA
from core.db.models import Ticket
from core.simulator import Fault, FaultKind
from tests.core.conversation.conftest import App, children_of_turn


def test_the_assistant_escalating_leaves_a_validated_handoff_on_the_ticket(fresh: App) -> None:
    customer = fresh.customer(21)
    order = fresh.order_of(customer.id or 0)

    result = fresh.services.engine.send(
        TurnRequest(
            user_id=customer.id or 0,
            text=f"This is unacceptable, I want to talk to a person about {order.number}",
        )
    )

    assert [step.name for step in result.tool_steps] == ["create_ticket"]
    ticket = _ticket_of(fresh, result.conversation_id)
    assert ticket.handoff_summary is not None
    jsonschema.validate(ticket.handoff_summary, HANDOFF_SCHEMA)
    assert ticket.handoff_summary["order_number"] == order.number
    assert ticket.handoff_summary["urgency"] == "high"
    spans = fresh.finished_spans(result.trace_id)
    under_turn = {s.name for s in children_of_turn(spans)}
    assert {"summarise_escalation", "structured escalation_summary"} <= under_turn
    structured = next(s for s in spans if s.name == "structured escalation_summary")
    assert [dict(e.attributes or {}) for e in structured.events] == [{"number": 1, "valid": True}]


def test_talk_to_a_human_summarises_the_conversation_onto_the_ticket(fresh: App) -> None:
    customer = fresh.customer(22)
    answer = fresh.services.engine.send(
        TurnRequest(user_id=customer.id or 0, text="My jacket zip broke after two months")
    )

    ticket_id = fresh.services.desk.escalate(answer.conversation_id, customer.id or 0)

    with Session(fresh.services.db) as session:
        ticket = session.get(Ticket, ticket_id)
    assert ticket is not None and ticket.handoff_summary is not None
    jsonschema.validate(ticket.handoff_summary, HANDOFF_SCHEMA)
    assert ticket.handoff_summary["intent"] == "warranty"
    assert "zip" in ticket.handoff_summary["summary"]
    escalate = next(s for s in fresh.finished_spans() if s.name == "escalate")
    same_trace = fresh.finished_spans(format(escalate.context.trace_id, "032x"))
    assert {"summarise_escalation", "structured escalation_summary"} <= {s.name for s in same_trace}


def test_an_invalid_handoff_is_retried_and_the_validation_error_is_on_the_trace(
    fresh: App,
) -> None:
    customer = fresh.customer(23)
    answer = fresh.services.engine.send(
        TurnRequest(user_id=customer.id or 0, text="I was charged twice for my order")
    )
    fresh.services.faults.add(Fault(FaultKind.SCHEMA_VIOLATION, times=1))

    ticket_id = fresh.services.desk.escalate(answer.conversation_id, customer.id or 0)

    with Session(fresh.services.db) as session:
        ticket = session.get(Ticket, ticket_id)
    assert ticket is not None and ticket.handoff_summary is not None
    jsonschema.validate(ticket.handoff_summary, HANDOFF_SCHEMA)
    structured = next(
        s for s in fresh.finished_spans() if s.name == "structured escalation_summary"
    )
    first, second = (dict(e.attributes or {}) for e in structured.events)
    assert first["valid"] is False and "is a required property" in str(first["error"])
    assert second == {"number": 2, "valid": True}
    retry = fresh.recorder.requests[-1].text
    assert "is a required property" in retry


def _ticket_of(app: App, conversation_id: str) -> Ticket:
    with Session(app.services.db) as session:
        ticket = session.exec(
            select(Ticket).where(Ticket.conversation_id == conversation_id)
        ).first()
    assert ticket is not None
    return ticket
