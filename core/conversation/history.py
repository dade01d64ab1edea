"""Conversations and their messages in the app database.

Message content is always stored after PII redaction; callers pass redacted text. The reads
pages call take ``actor`` (see ``core.ownership``); ``SYSTEM``, the default, is the engine's
own steps.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import asdict
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, Text, Update, case, cast, desc, func, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from core.actors import SYSTEM, Actor
from core.conversation.turns import TurnResult
from core.db.models import (
    Conversation,
    ConversationStatus,
    Message,
    MessageRole,
    Ticket,
    User,
    utcnow,
)
from core.errors import EngineError, StorageError
from core.ownership import check_conversation, check_customer_data, check_speaks_for
from observability.redaction import hide_card_like

TITLE_CHARS = 60
FLAG_RETRIES = 20


def start_conversation(
    engine: Engine,
    user_id: int,
    *,
    title: str = "",
    route: Sequence[str] | None = None,
    actor: Actor = SYSTEM,
) -> str:
    """Create an empty conversation for ``user_id`` (``actor`` speaking for them) and return
    its id."""
    check_speaks_for(actor, user_id)
    conversation = Conversation(
        id=str(uuid.uuid4()),
        user_id=user_id,
        title=title[:TITLE_CHARS],
        route=",".join(route) if route else None,
    )
    with session(engine) as db:
        if db.get(User, user_id) is None:
            raise EngineError(f"There is no user with id {user_id}; pick a customer from the list.")
        db.add(conversation)
        db.commit()
    return conversation.id


def get_conversation(
    engine: Engine, conversation_id: str, *, actor: Actor = SYSTEM
) -> Conversation:
    """The conversation, or ``EngineError`` saying it does not exist (``NotAllowed`` when it is
    not ``actor``'s to read)."""
    with session(engine) as db:
        conversation = db.get(Conversation, conversation_id)
    if conversation is None:
        raise EngineError(
            f"Conversation {conversation_id} does not exist (it may have been deleted)."
        )
    check_conversation(actor, conversation)
    return conversation


def list_conversations(
    engine: Engine, user_id: int, *, limit: int = 50, actor: Actor = SYSTEM
) -> list[Conversation]:
    """The user's conversations, most recently active first."""
    check_customer_data(actor, user_id)
    with session(engine) as db:
        statement = (
            select(Conversation)
            .where(Conversation.user_id == user_id)
            .order_by(desc(col(Conversation.updated_at)))
            .limit(limit)
        )
        return list(db.exec(statement))


def list_messages(engine: Engine, conversation_id: str, *, actor: Actor = SYSTEM) -> list[Message]:
    """Every message of the conversation in the order they were written."""
    if actor != SYSTEM:
        get_conversation(engine, conversation_id, actor=actor)
    with session(engine) as db:
        statement = (
            select(Message)
            .where(Message.conversation_id == conversation_id)
            .order_by(col(Message.created_at), col(Message.id))
        )
        return list(db.exec(statement))


def find_sent_message(engine: Engine, conversation_id: str, request_key: str) -> Message | None:
    """The customer's message stored for request ``request_key``, if one was (a write that
    committed although its connection dropped before the answer came back)."""
    with session(engine) as db:
        statement = select(Message).where(
            Message.conversation_id == conversation_id, Message.request_key == request_key
        )
        return db.exec(statement).first()


def find_answer(engine: Engine, conversation_id: str, trace_id: str) -> Message | None:
    """The assistant's message already stored for the turn ``trace_id``, if any."""
    with session(engine) as db:
        statement = select(Message).where(
            Message.conversation_id == conversation_id,
            Message.trace_id == trace_id,
            Message.role == MessageRole.ASSISTANT,
        )
        return db.exec(statement).first()


def list_tickets(engine: Engine, conversation_id: str, *, actor: Actor = SYSTEM) -> list[Ticket]:
    """Every ticket opened for the conversation, oldest first, whoever opened it."""
    if actor != SYSTEM:
        get_conversation(engine, conversation_id, actor=actor)
    with session(engine) as db:
        statement = (
            select(Ticket)
            .where(Ticket.conversation_id == conversation_id)
            .order_by(col(Ticket.created_at), col(Ticket.id))
        )
        return list(db.exec(statement))


def add_message(
    engine: Engine,
    conversation_id: str,
    role: MessageRole,
    content: str,
    **fields: Any,
) -> Message:
    """Append a message (already redacted) and touch the conversation; returns the stored row."""
    message = Message(conversation_id=conversation_id, role=role, content=content, **fields)
    changes: dict[Any, Any] = {Conversation.updated_at: utcnow()}
    if role is MessageRole.USER:
        untitled = col(Conversation.title) == ""
        changes[Conversation.title] = case(
            (untitled, hide_card_like(content)[:TITLE_CHARS]), else_=Conversation.title
        )
    cost = fields.get("cost_usd")
    if isinstance(cost, Decimal):
        changes[Conversation.total_cost_usd] = func.coalesce(Conversation.total_cost_usd, 0) + cost
    with session(engine) as db:
        if not _changed(db, _update_of(conversation_id).values(changes)):
            raise EngineError(f"Conversation {conversation_id} does not exist.")
        db.add(message)
        db.commit()
    return message


def update_conversation(engine: Engine, conversation_id: str, **changes: Any) -> None:
    """Set fields of a conversation (status, flags, experiment, counters…)."""
    with session(engine) as db:
        conversation = db.get(Conversation, conversation_id)
        if conversation is None:
            raise EngineError(f"Conversation {conversation_id} does not exist.")
        for name, value in changes.items():
            setattr(conversation, name, value)
        db.add(conversation)
        db.commit()


def flag_conversation(engine: Engine, conversation_id: str, reason: str) -> None:
    """Mark the conversation for the agent view, adding ``reason`` once.

    Compare-and-set on the stored list's text, so two sessions flagging at once both land
    (JSON has no atomic append on SQLite, nor equality on PostgreSQL's ``json``)."""
    stored = cast(col(Conversation.flag_reasons), Text)
    for _ in range(FLAG_RETRIES):
        with session(engine) as db:
            before = db.execute(
                select(stored).where(col(Conversation.id) == conversation_id)
            ).scalar_one_or_none()
            if before is None:
                return
            reasons = list(json.loads(before) or [])
            changes: dict[Any, Any] = {Conversation.flagged: True}
            if reason not in reasons:
                changes[Conversation.flag_reasons] = [*reasons, reason]
            statement = _update_of(conversation_id).where(stored == before).values(changes)
            if _changed(db, statement):
                db.commit()
                return
    raise StorageError(
        "The conversation is being changed by many sessions at once; try again in a moment."
    )


def set_status(engine: Engine, conversation_id: str, status: ConversationStatus) -> None:
    """Move the conversation to ``status`` (escalated, claimed, resolved, active)."""
    update_conversation(engine, conversation_id, status=status, updated_at=utcnow())


def count_redactions(engine: Engine, conversation_id: str, count: int) -> None:
    """Add ``count`` to the conversation's number of PII redactions and flag it for agents."""
    with session(engine) as db:
        added = _update_of(conversation_id).values(
            {Conversation.pii_redactions: Conversation.pii_redactions + count}
        )
        if not _changed(db, added):
            return
        db.commit()
    flag_conversation(engine, conversation_id, "PII redacted")


def customer_name(engine: Engine, user_id: int) -> str:
    """The user's name as the assistant addresses them."""
    with session(engine) as db:
        user = db.get(User, user_id)
    return user.name if user else "a customer"


def save_answer(engine: Engine, result: TurnResult) -> int:
    """Store the assistant's side of a turn — an answer, or an apology with its error — with
    its metrics, tool calls and quality; returns the message id."""
    quality = result.quality.score if result.quality else None
    message = add_message(
        engine,
        result.conversation_id,
        MessageRole.ASSISTANT,
        result.text,
        model=result.model,
        provider=result.provider,
        simulated=result.simulated,
        input_tokens=result.input_tokens,
        output_tokens=result.output_tokens,
        cost_usd=result.cost_usd,
        latency_ms=result.latency_ms,
        trace_id=result.trace_id,
        citations=[asdict(citation) for citation in result.citations],
        tool_calls=[asdict(step) for step in result.tool_steps],
        quality_score=quality,
        quality_reasons=list(result.quality.reasons) if result.quality else None,
        error=result.error,
    )
    if quality is not None:
        update_conversation(engine, result.conversation_id, quality_score=quality)
    return message.id or 0


def _update_of(conversation_id: str) -> Update:
    """An UPDATE of one conversation, its new values computed by the database (so concurrent
    sessions add to each other's counts instead of overwriting them)."""
    return update(Conversation).where(col(Conversation.id) == conversation_id)


def _changed(db: Session, statement: Update) -> int:
    """Run ``statement``; how many rows it changed."""
    result = db.execute(statement)
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


def session(engine: Engine) -> _GuardedSession:
    """A session on the app database whose errors become ``StorageError`` sentences."""
    return _GuardedSession(engine)


class _GuardedSession(Session):
    """A session whose database errors become ``StorageError`` sentences.

    Objects stay readable after the session closes (``expire_on_commit=False``).
    """

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine, expire_on_commit=False)

    def __exit__(self, kind: Any, value: Any, traceback: Any) -> None:
        super().__exit__(kind, value, traceback)
        if isinstance(value, SQLAlchemyError):
            raise StorageError(
                "The app database refused the change or went away; your message is kept in the "
                "page — try again in a moment."
            ) from value
