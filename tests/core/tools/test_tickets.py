"""Escalation: a ticket for the customer, the conversation handed to the agents, once."""

from __future__ import annotations

import json

from sqlmodel import Session, select

from core.db.models import Conversation, ConversationStatus, Ticket, TicketPriority
from core.providers.base import ToolCall
from tests.core.tools.conftest import Shop


def start_conversation(shop: Shop, user_id: int, conversation_id: str = "conv-1") -> str:
    with Session(shop.engine) as session:
        session.add(Conversation(id=conversation_id, user_id=user_id, title="Broken zip"))
        session.commit()
    return conversation_id


def escalate(shop: Shop, user_id: int, conversation_id: str | None, **arguments: str) -> dict:
    call = ToolCall(id="call_1", name="create_ticket", arguments=arguments)
    result = shop.registry.execute(call, shop.context(user_id, conversation_id))
    assert result.ok, result.content
    return json.loads(result.content)


def test_ticket_is_created_and_the_conversation_escalated_on_both_databases(
    any_shop: Shop,
) -> None:
    customer = any_shop.customers()[0]
    conversation_id = start_conversation(any_shop, customer.id or 0)

    answer = escalate(
        any_shop,
        customer.id or 0,
        conversation_id,
        subject="Jacket zip broke on first use",
        priority="high",
    )

    with Session(any_shop.engine) as session:
        ticket = session.get(Ticket, answer["ticket_id"])
        conversation = session.get(Conversation, conversation_id)
    assert ticket is not None and conversation is not None
    assert (ticket.user_id, ticket.conversation_id) == (customer.id, conversation_id)
    assert ticket.priority is TicketPriority.HIGH
    assert conversation.status is ConversationStatus.ESCALATED


def test_asking_twice_keeps_one_open_ticket(shop: Shop) -> None:
    customer = shop.customers()[1]
    conversation_id = start_conversation(shop, customer.id or 0)

    first = escalate(shop, customer.id or 0, conversation_id, subject="Refund missing")
    second = escalate(shop, customer.id or 0, conversation_id, subject="Refund still missing")

    assert second["ticket_id"] == first["ticket_id"] and second["already_open"] is True
    with Session(shop.engine) as session:
        assert len(session.exec(select(Ticket)).all()) == 1


def test_someone_elses_conversation_is_left_alone(shop: Shop) -> None:
    owner, stranger = shop.customers()[:2]
    conversation_id = start_conversation(shop, owner.id or 0)

    answer = escalate(shop, stranger.id or 0, conversation_id, subject="Help")

    with Session(shop.engine) as session:
        ticket = session.get(Ticket, answer["ticket_id"])
        conversation = session.get(Conversation, conversation_id)
    assert ticket is not None and ticket.conversation_id is None
    assert conversation is not None and conversation.status is ConversationStatus.ACTIVE


def test_ticket_without_a_subject_or_with_a_made_up_priority_is_an_error(shop: Shop) -> None:
    customer = shop.customers()[0]

    no_subject = shop.run(customer.id, "create_ticket", description="angry")
    bad_priority = shop.run(customer.id, "create_ticket", subject="Help", priority="asap")

    assert "'subject' is a required property" in json.loads(no_subject.content)["error"]
    assert "is not one of" in json.loads(bad_priority.content)["error"]
