"""Side-effect tool calls wait for the customer's yes: proposing one, finding it, expiring it.

When the model calls a tool that changes what the customer owns (``Tool.needs_consent``), the
engine does not run it. ``propose_action`` checks the call (``ToolRegistry.propose``: the order
exists and can still be cancelled, the day has free times…) and stores a ``ConsentRequest``;
the turn's answer asks the question and ``TurnResult.pending_action`` carries it for the page's
card. ``core.conversation.decisions`` runs it once the customer confirms, or tells the model
they declined. A new customer message expires whatever is still waiting (``expire_pending``),
so a card never outlives the turn that asked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, update
from sqlmodel import col, select

from core.conversation.history import session
from core.conversation.turns import PendingAction
from core.db.models import ActionStatus, ConsentRequest, utcnow
from core.providers.base import ToolCall
from core.tools import Proposal, ToolContext, ToolRegistry, ToolResult

ASK_FIRST = "Before I go ahead, please confirm below: {question}"


def propose_action(
    db: Engine,
    tools: ToolRegistry,
    call: ToolCall,
    context: ToolContext,
    *,
    route: Sequence[str],
    trace_id: str | None,
) -> PendingAction | ToolResult:
    """Store ``call`` as waiting for the customer's answer, or return the error the model gets
    instead (the call cannot be done as asked)."""
    outcome = tools.propose(call, context)
    if isinstance(outcome, ToolResult):
        return outcome
    if context.conversation_id is None:
        raise ValueError("a consent request needs a conversation")
    expire_pending(db, context.conversation_id)
    row = _request_row(outcome, call, context, route=route, trace_id=trace_id)
    with session(db) as store:
        store.add(row)
        store.commit()
        store.refresh(row)
    return to_pending(row)


def pending_action(db: Engine, conversation_id: str) -> PendingAction | None:
    """The conversation's request still waiting for an answer, if any."""
    with session(db) as store:
        row = store.exec(
            select(ConsentRequest)
            .where(
                ConsentRequest.conversation_id == conversation_id,
                ConsentRequest.status == ActionStatus.PENDING,
            )
            .order_by(col(ConsentRequest.id).desc())
        ).first()
    return to_pending(row) if row is not None else None


def expire_pending(db: Engine, conversation_id: str) -> int:
    """Expire the conversation's waiting requests (a new message moved on); returns how many."""
    with session(db) as store:
        changed = store.execute(
            update(ConsentRequest)
            .where(
                col(ConsentRequest.conversation_id) == conversation_id,
                col(ConsentRequest.status) == ActionStatus.PENDING,
            )
            .values(status=ActionStatus.EXPIRED, decided_at=utcnow())
        )
        store.commit()
    return int(cast(CursorResult[Any], changed).rowcount or 0)


def to_pending(row: ConsentRequest) -> PendingAction:
    """The card's view of a stored request."""
    return PendingAction(
        id=row.id or 0,
        conversation_id=row.conversation_id,
        tool=row.tool_name,
        question=row.question,
        confirm_label=row.confirm_label,
        decline_label=row.decline_label,
        choices=tuple(str(choice["label"]) for choice in row.choices),
        status=row.status.value,
    )


def _request_row(
    proposal: Proposal,
    call: ToolCall,
    context: ToolContext,
    *,
    route: Sequence[str],
    trace_id: str | None,
) -> ConsentRequest:
    return ConsentRequest(
        conversation_id=context.conversation_id or "",
        user_id=context.user_id,
        tool_name=call.name,
        call_id=call.id,
        arguments=dict(proposal.arguments),
        question=proposal.question,
        confirm_label=proposal.confirm_label,
        decline_label=proposal.decline_label,
        choices=[asdict(choice) for choice in proposal.choices],
        route=list(route),
        trace_id=trace_id,
        created_at=context.now,
    )
