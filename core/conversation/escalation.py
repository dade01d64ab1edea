"""What an agent gets when a conversation is escalated: a validated hand-off on the ticket.

When the assistant runs ``create_ticket`` or the customer presses "Talk to a human", the
conversation is summarised by a structured call (``summarise_escalation`` span around
``structured escalation_summary``): intent from a fixed list, the order number if the customer
gave one, a one-paragraph summary and an urgency. The JSON is validated against
``HANDOFF_SCHEMA`` and retried once with the error quoted (see ``structured``); the result is
stored on the ticket. A hand-off that cannot be made never blocks the escalation itself: the
ticket stays open without one and the span says why.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from opentelemetry.trace import Status, StatusCode

from core.conversation import history as store
from core.conversation.context_window import history_from_rows
from core.conversation.parts import EngineParts
from core.conversation.structured import request_json
from core.conversation.summaries import transcript
from core.conversation.tracing import TICKET_ID, tracer
from core.conversation.turns import ToolStep
from core.db.models import Ticket, TicketPriority
from core.errors import EngineError, ObservatoryError
from core.providers.base import ChatMessage
from observability import attributes as attr

ESCALATION_TOOLS = frozenset({"create_ticket"})
INTENTS = (
    "order_status",
    "cancellation",
    "return_or_refund",
    "shipping",
    "appointment",
    "account",
    "payment",
    "warranty",
    "complaint",
    "other",
)
URGENCIES = tuple(priority.value for priority in TicketPriority)
HANDOFF_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "intent": {"type": "string", "enum": list(INTENTS)},
        "order_number": {"type": "string", "pattern": "^ORD-[0-9]{4,}$"},
        "summary": {"type": "string", "minLength": 1, "maxLength": 1500},
        "urgency": {"type": "string", "enum": list(URGENCIES)},
    },
    "required": ["intent", "summary", "urgency"],
    "additionalProperties": False,
}
HANDOFF_INSTRUCTIONS = (
    "A customer-support conversation is being handed to a human agent. Return JSON with: "
    "intent (one of the listed values), order_number (only if the customer gave one, written "
    "like ORD-10042; leave it out otherwise), summary (one paragraph: what the customer needs, "
    "what was already tried or promised, what is still open) and urgency (low, normal, high, "
    "or urgent — urgent only for safety or money taken in error)."
)


@dataclass(frozen=True)
class Handoff:
    """The hand-off stored on a ticket."""

    intent: str
    order_number: str | None
    summary: str
    urgency: str
    recovered: bool
    """True when the first JSON was invalid and the retry fixed it."""


def escalated_ticket(steps: Sequence[ToolStep]) -> int | None:
    """The ticket the turn's last successful escalation opened (or found open), if any."""
    for step in reversed(steps):
        if not step.ok or step.name not in ESCALATION_TOOLS:
            continue
        ticket_id = json.loads(step.result).get("ticket_id")
        if isinstance(ticket_id, int):
            return ticket_id
    return None


def summarise_escalation(
    parts: EngineParts, conversation_id: str, ticket_id: int, route: Sequence[str]
) -> Handoff | None:
    """Summarise the conversation onto ticket ``ticket_id``; None when no valid summary came."""
    with tracer.start_as_current_span("summarise_escalation") as span:
        span.set_attribute(TICKET_ID, ticket_id)
        history = history_from_rows(store.list_messages(parts.db, conversation_id))
        conversation = transcript(history.messages)
        if history.summary:
            conversation = f"Earlier: {history.summary}\n{conversation}"
        try:
            result = request_json(
                lambda request: parts.router.chat(request, route, name="escalation").response,
                name="escalation_summary",
                schema=HANDOFF_SCHEMA,
                messages=[
                    ChatMessage(role="system", content=HANDOFF_INSTRUCTIONS),
                    ChatMessage(role="user", content=conversation or "(no messages yet)"),
                ],
                model=route[0],
                max_tokens=500,
            )
            _store(parts, ticket_id, result.data)
        except ObservatoryError as exc:
            span.set_attribute(attr.ERROR_TYPE, type(exc).__name__)
            span.set_status(Status(StatusCode.ERROR, str(exc)[:500]))
            return None
    data = result.data
    return Handoff(
        intent=str(data["intent"]),
        order_number=data.get("order_number"),
        summary=str(data["summary"]),
        urgency=str(data["urgency"]),
        recovered=result.recovered,
    )


def _store(parts: EngineParts, ticket_id: int, handoff: dict[str, Any]) -> None:
    with store.session(parts.db) as session:
        ticket = session.get(Ticket, ticket_id)
        if ticket is None:
            raise EngineError(f"Ticket {ticket_id} does not exist (it may have been deleted).")
        ticket.handoff_summary = handoff
        session.add(ticket)
        session.commit()
