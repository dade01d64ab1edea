"""Escalation to a human: ``create_ticket`` opens a Ticket and marks the conversation escalated.

One open ticket per conversation: asking twice returns the ticket already open, so a model that
repeats the call does not flood the agents' queue.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session, col, select

from core.db.models import (
    Conversation,
    ConversationStatus,
    Ticket,
    TicketPriority,
    TicketStatus,
)
from core.tools.registry import Tool, ToolContext, ToolEffect

_STAYS = frozenset({ConversationStatus.ESCALATED, ConversationStatus.CLAIMED})
"""Conversation states an escalation leaves alone (a human already has it or will)."""


def create_ticket(context: ToolContext, arguments: Mapping[str, Any]) -> dict[str, Any]:
    """Open a support ticket for the customer and hand the conversation to the agents."""
    with Session(context.engine) as session:
        conversation = _own_conversation(session, context)
        ticket = _open_ticket(session, conversation)
        created = ticket is None
        if ticket is None:
            ticket = Ticket(
                conversation_id=conversation.id if conversation else None,
                user_id=context.user_id,
                subject=str(arguments["subject"]).strip()[:200],
                description=str(arguments.get("description") or "").strip(),
                priority=TicketPriority(arguments.get("priority", TicketPriority.NORMAL)),
                created_at=context.now,
            )
            session.add(ticket)
        if conversation is not None and conversation.status not in _STAYS:
            conversation.status = ConversationStatus.ESCALATED
            conversation.updated_at = context.now
            session.add(conversation)
        session.commit()
        session.refresh(ticket)
        return {
            "ticket_id": ticket.id,
            "subject": ticket.subject,
            "priority": ticket.priority.value,
            "status": ticket.status.value,
            "already_open": not created,
            "escalated": True,
        }


def _own_conversation(session: Session, context: ToolContext) -> Conversation | None:
    if context.conversation_id is None:
        return None
    conversation = session.get(Conversation, context.conversation_id)
    if conversation is None or conversation.user_id != context.user_id:
        return None
    return conversation


def _open_ticket(session: Session, conversation: Conversation | None) -> Ticket | None:
    if conversation is None:
        return None
    return session.exec(
        select(Ticket)
        .where(
            Ticket.conversation_id == conversation.id,
            col(Ticket.status).in_([TicketStatus.OPEN, TicketStatus.PENDING]),
        )
        .order_by(col(Ticket.id))
    ).first()


TICKET_TOOLS = (
    Tool(
        name="create_ticket",
        description=(
            "Escalate to a human support agent: open a ticket and hand this conversation over. "
            "Use when the customer asks for a person, is upset, or you cannot help."
        ),
        parameters={
            "type": "object",
            "properties": {
                "subject": {
                    "type": "string",
                    "minLength": 1,
                    "description": "One line saying what the customer needs.",
                },
                "description": {
                    "type": "string",
                    "description": "What happened so far, for the agent.",
                },
                "priority": {
                    "type": "string",
                    "enum": [priority.value for priority in TicketPriority],
                    "description": "urgent only for safety or money taken in error.",
                },
            },
            "required": ["subject"],
        },
        function=create_ticket,
        effect=ToolEffect.SIDE_EFFECTS,
        consent_exempt=(
            "Handing the conversation to a person changes nothing the customer owns, and it is "
            "what they asked for."
        ),
    ),
)
