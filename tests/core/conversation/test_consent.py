"""No side effect on the model's word alone: a change waits for the customer's yes.

Regression for issue 17 "What was seen" 1: a cancellation, booking or move used to run as soon as
the model asked for it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, col, select

from core.conversation import TurnRequest, list_messages
from core.db.models import AppointmentSlot, Booking, BookingStatus, Order, OrderStatus
from core.errors import EngineError, NotAllowed
from core.tools.registry import CONSENT_AT, CONSENT_BY
from tests.core.conversation.conftest import App


def _processing_order(app: App, index: int) -> Order:
    with Session(app.services.db) as session:
        orders = session.exec(
            select(Order).where(Order.status == OrderStatus.PROCESSING).order_by(col(Order.id))
        ).all()
    return orders[index]


def _status(app: App, order: Order) -> OrderStatus:
    with Session(app.services.db) as session:
        found = session.get(Order, order.id)
    assert found is not None
    return found.status


def _ask_to_cancel(app: App, order: Order) -> tuple[str, int]:
    result = app.services.engine.send(
        TurnRequest(user_id=order.user_id, text=f"Please cancel my order {order.number}")
    )
    assert result.pending_action is not None
    return result.conversation_id, result.pending_action.id


def test_a_cancellation_waits_for_the_customers_yes_and_changes_nothing(fresh: App) -> None:
    order = _processing_order(fresh, 2)

    result = fresh.services.engine.send(
        TurnRequest(user_id=order.user_id, text=f"Please cancel my order {order.number}")
    )

    pending = result.pending_action
    assert pending is not None and pending.tool == "cancel_order"
    assert pending.question.startswith(f"Cancel {order.number} — $")
    assert f"{order.amount:,.2f}" in pending.question
    assert pending.decline_label == "Keep my order"
    assert pending.question in result.text
    assert _status(fresh, order) is OrderStatus.PROCESSING
    assert not result.tool_steps
    assert not any(s.name == "execute_tool cancel_order" for s in fresh.finished_spans())
    assert fresh.services.engine.pending_action(result.conversation_id) == pending, "persisted"


def test_confirming_cancels_and_its_span_says_who_confirmed_and_when(fresh: App) -> None:
    order = _processing_order(fresh, 3)
    conversation_id, action_id = _ask_to_cancel(fresh, order)
    fresh.spans.clear()

    result = fresh.services.engine.confirm_action(action_id, order.user_id)

    assert _status(fresh, order) is OrderStatus.CANCELLED
    assert "cancelled" in result.text.lower() and order.number in result.text
    assert [(s.name, s.ok) for s in result.tool_steps] == [("cancel_order", True)]
    span = next(s for s in fresh.finished_spans() if s.name == "execute_tool cancel_order")
    assert span.attributes is not None
    assert span.attributes[CONSENT_BY] == str(order.user_id)
    assert datetime.fromisoformat(str(span.attributes[CONSENT_AT])) <= datetime.now(UTC)
    assert fresh.services.engine.pending_action(conversation_id) is None
    stored = list_messages(fresh.services.db, conversation_id)
    assert stored[-2].content.startswith("Confirm: Cancel")
    assert stored[-1].content == result.text
    with pytest.raises(EngineError, match="already confirmed"):
        fresh.services.engine.confirm_action(action_id, order.user_id)


def test_declining_keeps_the_order_and_the_model_acknowledges_it(fresh: App) -> None:
    order = _processing_order(fresh, 4)
    conversation_id, action_id = _ask_to_cancel(fresh, order)

    result = fresh.services.engine.decline_action(action_id, order.user_id)

    assert _status(fresh, order) is OrderStatus.PROCESSING
    assert "nothing has been changed" in result.text
    assert not result.tool_steps
    assert list_messages(fresh.services.db, conversation_id)[-2].content.startswith("Keep my order")


def test_a_new_message_expires_the_request(fresh: App) -> None:
    order = _processing_order(fresh, 5)
    conversation_id, action_id = _ask_to_cancel(fresh, order)

    fresh.services.engine.send(
        TurnRequest(
            user_id=order.user_id, text="How long do refunds take?", conversation_id=conversation_id
        )
    )

    assert fresh.services.engine.pending_action(conversation_id) is None
    with pytest.raises(EngineError, match="expired"):
        fresh.services.engine.confirm_action(action_id, order.user_id)
    assert _status(fresh, order) is OrderStatus.PROCESSING


def test_only_the_customer_asked_can_confirm(fresh: App) -> None:
    order = _processing_order(fresh, 6)
    _, action_id = _ask_to_cancel(fresh, order)

    with pytest.raises(NotAllowed, match="another customer"):
        fresh.services.engine.confirm_action(action_id, order.user_id + 1)

    assert _status(fresh, order) is OrderStatus.PROCESSING


def test_a_shipped_order_is_explained_without_asking(fresh: App) -> None:
    with Session(fresh.services.db) as session:
        order = session.exec(select(Order).where(Order.status == OrderStatus.SHIPPED)).first()
    assert order is not None

    result = fresh.services.engine.send(
        TurnRequest(user_id=order.user_id, text=f"Please cancel my order {order.number}")
    )

    assert result.pending_action is None
    assert "shipped" in result.text
    assert [(s.name, s.ok) for s in result.tool_steps] == [("cancel_order", False)]


def test_moving_an_appointment_offers_the_days_free_times_and_moves_to_the_one_picked(
    fresh: App,
) -> None:
    booking, slot = _upcoming_booking(fresh)
    zone = ZoneInfo(fresh.services.settings.app.store_timezone)
    day = slot.starts_at.astimezone(zone).date() + timedelta(days=2)
    if day.weekday() == 6:
        day += timedelta(days=1)

    text = f"Please move my appointment to {day:%B} {day.day}"
    result = fresh.services.engine.send(TurnRequest(user_id=booking.user_id, text=text))

    pending = result.pending_action
    assert pending is not None and pending.tool == "reschedule_appointment"
    assert len(pending.choices) > 1 and pending.decline_label == "Keep my appointment"
    assert _slot_of(fresh, booking) == slot.id, "not moved before the customer picks"

    moved = fresh.services.engine.confirm_action(pending.id, booking.user_id, choice=1)

    new_slot = _slot(fresh, _slot_of(fresh, booking))
    assert new_slot.starts_at.astimezone(zone).date() == day
    assert pending.choices[1].startswith(f"{new_slot.starts_at.astimezone(zone):%a} {day.day}")
    assert [(s.name, s.ok) for s in moved.tool_steps] == [("reschedule_appointment", True)]


def _upcoming_booking(app: App) -> tuple[Booking, AppointmentSlot]:
    with Session(app.services.db) as session:
        row = session.exec(
            select(Booking, AppointmentSlot)
            .join(AppointmentSlot, col(AppointmentSlot.id) == Booking.slot_id)
            .where(
                Booking.status == BookingStatus.BOOKED,
                col(AppointmentSlot.starts_at) > datetime.now(UTC) + timedelta(days=1),
            )
            .order_by(col(Booking.id))
        ).first()
    assert row is not None
    return row


def _slot_of(app: App, booking: Booking) -> int:
    with Session(app.services.db) as session:
        found = session.get(Booking, booking.id)
    assert found is not None
    return found.slot_id


def _slot(app: App, slot_id: int) -> AppointmentSlot:
    with Session(app.services.db) as session:
        found = session.get(AppointmentSlot, slot_id)
    assert found is not None
    return found
