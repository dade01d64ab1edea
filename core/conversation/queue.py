"""The agents' queue: conversations that may need a human, with the facts to pick one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Engine, desc, func, or_
from sqlmodel import Session, col, select

from core.actors import SYSTEM, Actor, ActorRole
from core.conversation.history import session
from core.db.models import (
    Conversation,
    ConversationStatus,
    Feedback,
    Message,
    MessageRole,
    User,
)
from core.ownership import check_staff
from observability.redaction import hide_card_like


class QueueFilter(StrEnum):
    ALL = "all"
    ESCALATED = "escalated"
    NEGATIVE_FEEDBACK = "negative feedback"
    LOW_QUALITY = "low quality"
    HIGH_COST = "high cost"
    PII_REDACTED = "PII redacted"


@dataclass(frozen=True)
class QueueRow:
    """One conversation in the agent queue; ``last_message`` is the customer's latest words.

    A card-shaped number that is not a card (it fails the checksum, so it is kept in the
    message) shows as ``[card-like number]`` in ``title`` and ``last_message``.
    """

    conversation_id: str
    customer: str
    title: str
    last_message: str
    status: ConversationStatus
    cost_usd: Decimal
    quality: float | None
    flag_reasons: tuple[str, ...]
    negative_feedback: int
    pii_redactions: int
    updated_at: datetime


def list_queue(
    engine: Engine,
    which: QueueFilter = QueueFilter.ALL,
    *,
    low_quality_below: float = 0.5,
    high_cost_above: Decimal = Decimal("0.01"),
    limit: int = 50,
    actor: Actor = SYSTEM,
) -> list[QueueRow]:
    """Conversations newest first; ``which`` narrows to one reason a human should look. An
    agent sees what is assigned to them or still unassigned; a customer nothing."""
    check_staff(actor)
    negatives = (
        select(Feedback.conversation_id, func.count().label("negatives"))
        .where(Feedback.score < 0)
        .group_by(col(Feedback.conversation_id))
        .subquery()
    )
    statement = (
        select(Conversation, User.name, func.coalesce(negatives.c.negatives, 0))
        .join(User, col(User.id) == col(Conversation.user_id))
        .outerjoin(negatives, negatives.c.conversation_id == col(Conversation.id))
        .order_by(desc(col(Conversation.updated_at)))
        .limit(limit)
    )
    if actor.role is ActorRole.AGENT:
        mine = col(Conversation.assigned_agent_id) == actor.user_id
        statement = statement.where(or_(col(Conversation.assigned_agent_id).is_(None), mine))
    match which:
        case QueueFilter.ESCALATED:
            statement = statement.where(
                col(Conversation.status).in_(
                    [ConversationStatus.ESCALATED, ConversationStatus.CLAIMED]
                )
            )
        case QueueFilter.NEGATIVE_FEEDBACK:
            statement = statement.where(negatives.c.negatives > 0)
        case QueueFilter.LOW_QUALITY:
            statement = statement.where(col(Conversation.quality_score) < low_quality_below)
        case QueueFilter.HIGH_COST:
            statement = statement.where(col(Conversation.total_cost_usd) > high_cost_above)
        case QueueFilter.PII_REDACTED:
            statement = statement.where(col(Conversation.pii_redactions) > 0)
        case QueueFilter.ALL:
            pass
    with session(engine) as db:
        rows = list(db.exec(statement))
        last = _last_messages(db, [conversation.id for conversation, _, _ in rows])
    return [
        QueueRow(
            conversation_id=conversation.id,
            customer=name,
            title=hide_card_like(conversation.title),
            last_message=hide_card_like(last.get(conversation.id, "")),
            status=conversation.status,
            cost_usd=conversation.total_cost_usd or Decimal(0),
            quality=conversation.quality_score,
            flag_reasons=tuple(conversation.flag_reasons),
            negative_feedback=int(negative_count),
            pii_redactions=conversation.pii_redactions,
            updated_at=conversation.updated_at,
        )
        for conversation, name, negative_count in rows
    ]


def _last_messages(db: Session, conversation_ids: list[str]) -> dict[str, str]:
    if not conversation_ids:
        return {}
    newest = (
        select(Message.conversation_id, func.max(Message.id).label("last_id"))
        .where(col(Message.conversation_id).in_(conversation_ids))
        .where(col(Message.role) == MessageRole.USER)
        .group_by(col(Message.conversation_id))
        .subquery()
    )
    statement = select(Message.conversation_id, Message.content).join(
        newest, newest.c.last_id == col(Message.id)
    )
    return {conversation_id: content for conversation_id, content in db.exec(statement)}
