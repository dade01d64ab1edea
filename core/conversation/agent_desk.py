"""What a human agent does with a conversation: claim, reply, draft with AI, resolve, hand back.

Agent replies are redacted like customer messages and stored with role ``agent``; the customer's
chat shows them. The AI draft and the escalation hand-off are structured (JSON) calls with one
recovery attempt. A ticket an agent opens is stored at once; its hand-off summary is written on a
background thread, so the agent view shows the ticket without waiting for an LLM.

Every action takes who acts (``actor``, see ``core.ownership``): an agent works on
conversations assigned to them or still queued, an admin on all; a customer may only ask for a
human in their own conversation. The defaults keep the old calls meaning what they meant: the
agent whose id is passed, or the app itself where no one is named.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from opentelemetry import trace
from sqlmodel import col, select

from core.actors import SYSTEM, Actor
from core.conversation import history as store
from core.conversation.context_window import history_from_rows
from core.conversation.escalation import INTENTS, summarise_escalation
from core.conversation.parts import EngineParts
from core.conversation.structured import request_json
from core.conversation.summaries import transcript
from core.db.models import (
    Conversation,
    ConversationStatus,
    Message,
    MessageRole,
    Ticket,
    TicketPriority,
    TicketStatus,
    utcnow,
)
from core.errors import EngineError
from core.ownership import check_conversation, check_staff, check_turn
from core.pii import redact_message
from core.providers.base import ChatMessage
from observability import context as trace_context

tracer = trace.get_tracer("support_observatory.agent_desk")
log = logging.getLogger(__name__)

DRAFT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "summary": {"type": "string", "minLength": 1},
        "intent": {"type": "string", "enum": list(INTENTS)},
        "sentiment": {"type": "string", "enum": ["positive", "neutral", "negative"]},
        "reply": {"type": "string", "minLength": 1},
    },
    "required": ["summary", "intent", "sentiment", "reply"],
    "additionalProperties": False,
}
DRAFT_INSTRUCTIONS = (
    "You help a human support agent of Northwind Outfitters. Read the conversation and return "
    "JSON with: summary (two sentences), intent (one of the listed values), sentiment of the "
    "customer, and reply — a friendly, specific reply the agent can send as it is."
)
TICKET_TITLE_CHARS = 120
OPEN_TICKETS = (TicketStatus.OPEN, TicketStatus.PENDING)


def resolved_notice(closed: Sequence[int]) -> str:
    """What the customer reads when an agent resolves the conversation."""
    tickets = ", ".join(f"#{ticket_id}" for ticket_id in closed)
    noun = "ticket" if len(closed) == 1 else "tickets"
    closing = f" and closed {noun} {tickets}" if closed else ""
    return (
        f"I've marked this conversation as resolved{closing}. If anything else comes up, "
        "just write here and we'll pick it up again."
    )


@dataclass(frozen=True)
class Draft:
    summary: str
    intent: str
    sentiment: str
    reply: str
    recovered: bool
    """True when the first JSON was invalid and the retry fixed it."""
    trace_id: str


class AgentDesk:
    """Agent actions on conversations, over the same parts as the engine."""

    def __init__(self, parts: EngineParts) -> None:
        self.parts = parts
        self._handoffs = ThreadPoolExecutor(max_workers=1, thread_name_prefix="handoff")

    def close(self) -> None:
        """Wait for hand-off summaries still being written."""
        self._handoffs.shutdown(wait=True)

    def claim(self, conversation_id: str, agent_id: int, *, actor: Actor | None = None) -> None:
        """The agent takes the conversation: the assistant stops answering it. ``actor``:
        who clicks (``None``: the agent ``agent_id``)."""
        self._check(conversation_id, actor if actor is not None else Actor.agent(agent_id))
        store.update_conversation(
            self.parts.db,
            conversation_id,
            status=ConversationStatus.CLAIMED,
            assigned_agent_id=agent_id,
        )

    def hand_back(self, conversation_id: str, *, actor: Actor = SYSTEM) -> None:
        """The assistant answers the customer again."""
        self._check(conversation_id, actor)
        store.update_conversation(
            self.parts.db,
            conversation_id,
            status=ConversationStatus.ACTIVE,
            assigned_agent_id=None,
        )

    def resolve(
        self, conversation_id: str, agent_id: int | None = None, *, actor: Actor | None = None
    ) -> list[int]:
        """Close the conversation and its open tickets, clear its flags and tell the customer
        (a message from ``agent_id``); returns the ids of the tickets it closed."""
        if actor is None:
            actor = Actor.agent(agent_id) if agent_id is not None else SYSTEM
        self._check(conversation_id, actor)
        with store.session(self.parts.db) as session:
            tickets = session.exec(
                select(Ticket).where(
                    Ticket.conversation_id == conversation_id,
                    col(Ticket.status).in_(OPEN_TICKETS),
                )
            ).all()
            closed = sorted(ticket.id or 0 for ticket in tickets)
            for ticket in tickets:
                ticket.status = TicketStatus.RESOLVED
                ticket.resolved_at = utcnow()
                session.add(ticket)
            session.commit()
        store.add_message(
            self.parts.db,
            conversation_id,
            MessageRole.AGENT,
            resolved_notice(closed),
            author_id=agent_id,
        )
        store.update_conversation(
            self.parts.db,
            conversation_id,
            status=ConversationStatus.RESOLVED,
            flagged=False,
            flag_reasons=[],
        )
        return closed

    def open_ticket(
        self,
        conversation_id: str,
        title: str,
        priority: TicketPriority = TicketPriority.NORMAL,
        *,
        actor: Actor = SYSTEM,
    ) -> int:
        """A ticket the agent titled, returned at once; the hand-off summary follows on a
        background thread (in the same trace context). A claimed conversation stays claimed."""
        title = " ".join(title.split())[:TICKET_TITLE_CHARS]
        if not title:
            raise EngineError("Give the ticket a title, for example what the customer needs.")
        conversation = self._check(conversation_id, actor)
        return self.escalate(
            conversation_id,
            conversation.user_id,
            subject=title,
            priority=priority,
            summary_in_background=True,
            actor=SYSTEM,
        )

    def escalate(
        self,
        conversation_id: str,
        user_id: int,
        *,
        subject: str = "Customer asked for a human",
        priority: TicketPriority = TicketPriority.NORMAL,
        summary_in_background: bool = False,
        actor: Actor | None = None,
    ) -> int:
        """Open a ticket, put the conversation in the agents' queue (a claimed one stays claimed)
        and summarise it onto the ticket for whoever picks it up (a traced structured call, on
        a background thread with ``summary_in_background``); returns the ticket id. ``actor``:
        who asks (``None``: the customer ``user_id``, in their own conversation)."""
        parts = self.parts
        acting = actor if actor is not None else Actor.customer(user_id)
        check_turn(acting, user_id, store.get_conversation(parts.db, conversation_id))
        with (
            trace_context(conversation_id=conversation_id, user_id=str(user_id)),
            tracer.start_as_current_span("escalate"),
        ):
            with store.session(parts.db) as session:
                ticket = Ticket(
                    conversation_id=conversation_id,
                    user_id=user_id,
                    subject=subject,
                    priority=priority,
                )
                session.add(ticket)
                session.commit()
                session.refresh(ticket)
            # A claimed conversation stays with its agent: the assistant must not answer again.
            status = store.get_conversation(parts.db, conversation_id).status
            if status is not ConversationStatus.CLAIMED:
                store.set_status(parts.db, conversation_id, ConversationStatus.ESCALATED)
            store.flag_conversation(parts.db, conversation_id, "escalated")
            ticket_id = ticket.id or 0
            route = self._route(conversation_id)
            if summary_in_background:
                self._summarise_later(conversation_id, ticket_id, route)
            else:
                summarise_escalation(parts, conversation_id, ticket_id, route)
        return ticket_id

    def _summarise_later(self, conversation_id: str, ticket_id: int, route: list[str]) -> None:
        context = contextvars.copy_context()
        done: Future[Any] = self._handoffs.submit(
            context.run, summarise_escalation, self.parts, conversation_id, ticket_id, route
        )
        done.add_done_callback(_log_failure)

    def reply(
        self, conversation_id: str, agent_id: int, text: str, *, actor: Actor | None = None
    ) -> Message:
        """Send ``text`` to the customer as the agent (redacted first); claims the conversation."""
        acting = actor if actor is not None else Actor.agent(agent_id)
        self._check(conversation_id, acting)
        redaction = redact_message(
            self.parts.db, text, conversation_id=conversation_id, where="agent_message"
        )
        message = store.add_message(
            self.parts.db,
            conversation_id,
            MessageRole.AGENT,
            redaction.text,
            author_id=agent_id,
        )
        self.claim(conversation_id, agent_id, actor=acting)
        return message

    def _check(self, conversation_id: str, actor: Actor) -> Conversation:
        """The conversation, once ``actor`` is staff allowed to work on it."""
        check_staff(actor)
        conversation = store.get_conversation(self.parts.db, conversation_id)
        check_conversation(actor, conversation)
        return conversation

    def _route(self, conversation_id: str) -> list[str]:
        """The conversation's own route, else the default one."""
        chosen = store.get_conversation(self.parts.db, conversation_id).route
        return chosen.split(",") if chosen else list(self.parts.settings.router.default_route)

    def draft_reply(
        self,
        conversation_id: str,
        route: Sequence[str] | None = None,
        *,
        actor: Actor = SYSTEM,
    ) -> Draft:
        """An AI summary, intent, sentiment and suggested reply for the agent (a traced call)."""
        self._check(conversation_id, actor)
        parts = self.parts
        route = list(route or parts.settings.router.default_route)
        rows = store.list_messages(parts.db, conversation_id)
        history = history_from_rows(rows)
        conversation_text = transcript(history.messages)
        if history.summary:
            conversation_text = f"Earlier: {history.summary}\n{conversation_text}"
        messages = [
            ChatMessage(role="system", content=DRAFT_INSTRUCTIONS),
            ChatMessage(role="user", content=conversation_text or "(no messages yet)"),
        ]
        with (
            trace_context(conversation_id=conversation_id),
            tracer.start_as_current_span("draft agent reply") as span,
        ):
            result = request_json(
                lambda request: parts.router.chat(request, route).response,
                name="agent_draft",
                schema=DRAFT_SCHEMA,
                messages=messages,
                model=route[0],
            )
            trace_id = format(span.get_span_context().trace_id, "032x")
        data = result.data
        return Draft(
            summary=str(data["summary"]),
            intent=str(data["intent"]),
            sentiment=str(data["sentiment"]),
            reply=str(data["reply"]),
            recovered=result.recovered,
            trace_id=trace_id,
        )


def _log_failure(done: Future[Any]) -> None:
    """A hand-off that failed off the request path is logged (its span already says why)."""
    if (error := done.exception()) is not None:
        log.warning("The ticket's hand-off summary was not written: %s", error)
