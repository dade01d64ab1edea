"""What the scenarios share: their demo customers, and a customer turn told as steps."""

from __future__ import annotations

from collections.abc import Callable, Generator
from contextlib import closing

from sqlmodel import Session, col, select

from core.conversation import (
    ConversationEngine,
    Notice,
    ToolFinished,
    ToolStarted,
    TurnRequest,
    TurnResult,
    TurnStatus,
)
from core.db.models import Booking, BookingStatus, Order, OrderStatus, Role, User
from core.errors import EngineError
from core.scenarios.driver import RunContext, Step

ANSWER_PREVIEW_CHARS = 240


def customers(run: RunContext) -> list[User]:
    """The seeded customers in id order (the order the seed made them in)."""
    with Session(run.services.db) as session:
        statement = select(User).where(User.role == Role.CUSTOMER).order_by(col(User.id))
        return list(session.exec(statement))


def pick_customer(run: RunContext, wanted: Callable[[Session, User], bool] | None = None) -> User:
    """The scenario's own customer: the first from its index on that ``wanted`` accepts."""
    everyone = customers(run)
    if not everyone:
        raise EngineError("There are no demo customers; load the demo data with python -m seed.")
    start = run.scenario.customer % len(everyone)
    ordered = everyone[start:] + everyone[:start]
    with Session(run.services.db) as session:
        for user in ordered:
            if wanted is None or wanted(session, user):
                return user
    raise EngineError(f"No demo customer fits the “{run.scenario.title}” scenario.")


def late_order(session: Session, user: User) -> str | None:
    """The customer's newest delayed (else in-transit) order number."""
    for status in (OrderStatus.DELAYED, OrderStatus.IN_TRANSIT):
        order = session.exec(
            select(Order)
            .where(Order.user_id == user.id, Order.status == status)
            .order_by(col(Order.placed_at).desc())
        ).first()
        if order is not None:
            return order.number
    return None


def has_booking(session: Session, user: User) -> bool:
    """Whether the customer has an appointment booked."""
    statement = select(Booking).where(
        Booking.user_id == user.id, Booking.status == BookingStatus.BOOKED
    )
    return session.exec(statement).first() is not None


def tell_turn(
    run: RunContext,
    user: User,
    text: str,
    *,
    conversation_id: str | None = None,
    engine: ConversationEngine | None = None,
) -> Generator[Step, None, TurnResult]:
    """Send ``text`` as ``user`` through the chat's engine, yielding its steps as they happen;
    returns the turn's result. A turn that was not answered ends the run with its reason."""
    engine = engine or run.engine()
    request = TurnRequest(
        user_id=user.id or 0,
        text=text,
        conversation_id=conversation_id,
        scenario=run.scenario.key.value,
    )
    yield Step(f"{user.name} writes: “{text}”")
    with closing(engine.stream(request)) as events:
        for event in events:
            step = _step_of(event)
            if step is not None:
                yield step
            if isinstance(event, TurnResult):
                return _answered(event)
    raise EngineError("The turn ended without an answer.")


def tell_answer(result: TurnResult) -> Step:
    """The answer as a step: who answered, in how long, and its first words."""
    text = " ".join(result.text.split())
    if len(text) > ANSWER_PREVIEW_CHARS:
        text = text[: ANSWER_PREVIEW_CHARS - 1].rstrip() + "…"
    who = result.model or "the cache"
    return Step(f"Answer from {who} in {result.latency_ms / 1000:.1f} s: “{text}”")


def _step_of(event: object) -> Step | None:
    if isinstance(event, ToolStarted):
        arguments = ", ".join(f"{k}={v!r}" for k, v in event.arguments.items())
        return Step(f"Tool call: {event.name}({arguments})")
    if isinstance(event, ToolFinished):
        outcome = "done" if event.step.ok else "failed"
        return Step(f"Tool {event.step.name} {outcome}.")
    if isinstance(event, Notice):
        return Step(f"Notice to the customer: {event.text}")
    if isinstance(event, TurnResult) and event.status is TurnStatus.ANSWERED:
        return tell_answer(event)
    return None  # streamed text is shown whole with the answer


def _answered(result: TurnResult) -> TurnResult:
    if result.status is TurnStatus.ANSWERED:
        return result
    reason = result.error or result.text
    raise EngineError(f"The turn was not answered ({result.status.value}): {reason}")
