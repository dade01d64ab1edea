"""Who uses the app: customers, agents and admins from the users table, and — for whoever gives
the demo — what each customer has (orders, bookings) and what to ask as them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from core.actors import SYSTEM, Actor
from core.db.models import (
    AppointmentSlot,
    Booking,
    BookingStatus,
    Order,
    OrderStatus,
    Role,
    User,
)
from core.ownership import check_customer_data

MOST_TRIES = 5
NO_ORDERS_YET = "I haven't ordered yet: how long would I have to return a jacket?"

_ASK_ABOUT: dict[OrderStatus, str] = {
    OrderStatus.PROCESSING: "Please cancel my order {number}.",
    OrderStatus.PACKED: "Can I still cancel {number}?",
    OrderStatus.SHIPPED: "Where is my order {number}?",
    OrderStatus.IN_TRANSIT: "When will {number} arrive?",
    OrderStatus.OUT_FOR_DELIVERY: "Is {number} coming today?",
    OrderStatus.DELAYED: "My order {number} is late — what's going on?",
    OrderStatus.DELIVERED: "I'd like to return something from {number}.",
    OrderStatus.CANCELLED: "When do I get my money back for {number}?",
    OrderStatus.RETURNED: "Has the refund for my return of {number} gone through?",
}
"""What a customer would ask about an order in each state (the tool or policy it exercises)."""


@dataclass(frozen=True)
class OrderLine:
    number: str
    status: OrderStatus


@dataclass(frozen=True)
class BookingLine:
    service: str
    location: str
    starts_at: datetime
    """In the store's time zone."""
    status: BookingStatus


@dataclass(frozen=True)
class CustomerGuide:
    """A customer's orders and bookings and a few messages worth trying as them."""

    orders: tuple[OrderLine, ...]
    bookings: tuple[BookingLine, ...]
    things_to_try: tuple[str, ...]


def list_users(engine: Engine, role: Role) -> list[User]:
    """Users with ``role`` in name order."""
    with Session(engine, expire_on_commit=False) as session:
        statement = select(User).where(User.role == role).order_by(col(User.name))
        return list(session.exec(statement))


def list_customers(engine: Engine) -> list[User]:
    """Every customer, in name order."""
    return list_users(engine, Role.CUSTOMER)


def customer_guide(
    engine: Engine, user_id: int, *, timezone: str, actor: Actor = SYSTEM
) -> CustomerGuide:
    """``user_id``'s orders (newest first) and bookings (soonest first), and up to five
    messages to try, made from them: one per order state they have (a returns question when they
    have none), one about a booking (or booking one), and one about another customer's order,
    which the assistant must refuse. A customer ``actor`` may read only their own."""
    check_customer_data(actor, user_id)
    zone = ZoneInfo(timezone)
    with Session(engine) as session:
        orders = [
            OrderLine(order.number, order.status)
            for order in session.exec(
                select(Order).where(Order.user_id == user_id).order_by(col(Order.placed_at).desc())
            )
        ]
        bookings = [
            BookingLine(slot.service, slot.location, _local(slot.starts_at, zone), booking.status)
            for booking, slot in session.exec(
                select(Booking, AppointmentSlot)
                .join(AppointmentSlot, col(AppointmentSlot.id) == col(Booking.slot_id))
                .where(Booking.user_id == user_id)
                .order_by(col(AppointmentSlot.starts_at))
            )
        ]
        service = session.exec(select(AppointmentSlot.service).limit(1)).first()
        someone_elses = session.exec(
            select(Order.number).where(Order.user_id != user_id).order_by(col(Order.id)).limit(1)
        ).first()
    tries = _order_tries(orders)[: MOST_TRIES - 2] or [NO_ORDERS_YET]
    tries += _booking_tries(bookings, service)
    if someone_elses:
        tries.append(f"Where is order {someone_elses}?")
    return CustomerGuide(tuple(orders), tuple(bookings), tuple(tries[:MOST_TRIES]))


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    """A stored UTC time (naive when SQLite gives it back) in the store's time zone."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone)


def _order_tries(orders: list[OrderLine]) -> list[str]:
    """One message per order state, for the newest order in that state."""
    seen: set[OrderStatus] = set()
    tries = []
    for order in orders:
        if order.status not in seen:
            seen.add(order.status)
            tries.append(_ASK_ABOUT[order.status].format(number=order.number))
    return tries


def _booking_tries(bookings: list[BookingLine], service: str | None) -> list[str]:
    upcoming = next((b for b in bookings if b.status is BookingStatus.BOOKED), None)
    if upcoming is not None:
        when = f"{upcoming.starts_at:%A %-d %B}"
        return [f"Can I move my {upcoming.service} appointment on {when} to another day?"]
    return [f"I'd like to book a {service} appointment next week."] if service else []
