"""Customers' thumbs on answers: one vote per answer and customer, changed in place.

A vote is stamped on the answer's trace (an ``annotation feedback`` span) each time it is cast
or changed; a thumbs down flags the conversation for the agents' queue. A customer votes only on
answers in their own conversations, and only as themselves (``actor``; ``None`` is the customer
``user_id``).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Engine, and_
from sqlmodel import Session, col, select

from core.actors import SYSTEM, Actor
from core.conversation.history import flag_conversation, get_conversation, session
from core.db.models import Feedback, Message, utcnow
from core.errors import EngineError
from core.ownership import check_conversation, check_customer_data, check_speaks_for
from observability import annotate_trace
from observability import attributes as attr


def record_feedback(
    engine: Engine,
    message_id: int,
    score: int,
    *,
    user_id: int | None,
    comment: str | None = None,
    actor: Actor | None = None,
) -> Feedback:
    """Store ``user_id``'s thumbs up (+1) or down (-1) on an assistant message.

    A customer has one vote per answer: voting again changes that vote's row (older duplicate
    rows, from before this rule, are removed). A changed vote is stamped on the trace again.
    """
    if score not in (-1, 1):
        raise EngineError("Feedback is a thumbs up (+1) or a thumbs down (-1).")
    acting = _acting(actor, user_id)
    with session(engine) as db:
        message = db.get(Message, message_id)
        if message is None:
            raise EngineError(f"Message {message_id} does not exist.")
        _check_vote(engine, acting, user_id, message)
        votes = list(db.exec(select(Feedback).where(_vote_of(message_id, user_id))))
        feedback = votes[0] if votes else None
        unchanged = feedback is not None and feedback.score == score
        for duplicate in votes[1:]:
            db.delete(duplicate)
        if feedback is None:
            feedback = Feedback(
                message_id=message_id,
                conversation_id=message.conversation_id,
                user_id=user_id,
                score=score,
            )
        feedback.score, feedback.comment, feedback.created_at = score, comment, utcnow()
        db.add(feedback)
        db.commit()
        db.refresh(feedback)
    if unchanged:
        return feedback
    if message.trace_id:
        annotate_trace(
            message.trace_id,
            "feedback",
            score,
            at=message.created_at,
            attributes={attr.CONVERSATION_ID: message.conversation_id},
        )
    if score < 0:
        flag_conversation(engine, feedback.conversation_id, "negative feedback")
    return feedback


def withdraw_feedback(
    engine: Engine, message_id: int, *, user_id: int | None, actor: Actor | None = None
) -> None:
    """Remove ``user_id``'s vote on the message (the thumb clicked again)."""
    acting = _acting(actor, user_id)
    with session(engine) as db:
        message = db.get(Message, message_id)
        if message is not None:
            _check_vote(engine, acting, user_id, message)
        for vote in db.exec(select(Feedback).where(_vote_of(message_id, user_id))):
            db.delete(vote)
        db.commit()


def customer_votes(
    engine: Engine, conversation_id: str, user_id: int | None, *, actor: Actor | None = None
) -> dict[int, int]:
    """``user_id``'s current vote (+1 or -1) on each answer of the conversation they voted on."""
    acting = _acting(actor, user_id)
    check_customer_data(acting, user_id)
    if acting != SYSTEM:
        get_conversation(engine, conversation_id, actor=acting)
    statement = (
        select(Feedback.message_id, Feedback.score)
        .where(col(Feedback.conversation_id) == conversation_id, _by(user_id))
        .order_by(col(Feedback.id))
    )
    with Session(engine) as db:
        return dict(db.exec(statement).all())


def _vote_of(message_id: int, user_id: int | None) -> ColumnElement[bool]:
    return and_(col(Feedback.message_id) == message_id, _by(user_id))


def _by(user_id: int | None) -> ColumnElement[bool]:
    return col(Feedback.user_id).is_(None) if user_id is None else col(Feedback.user_id) == user_id


def _acting(actor: Actor | None, user_id: int | None) -> Actor:
    """Who votes: ``actor``, else the customer ``user_id`` (an anonymous vote is the app's)."""
    if actor is not None:
        return actor
    return Actor.customer(user_id) if user_id is not None else SYSTEM


def _check_vote(engine: Engine, actor: Actor, user_id: int | None, message: Message) -> None:
    """``actor`` votes as ``user_id`` on an answer of a conversation that is ``user_id``'s."""
    if actor == SYSTEM:
        return
    check_speaks_for(actor, user_id)
    check_conversation(actor, get_conversation(engine, message.conversation_id))
