"""Load the demo data into the app database; running it again adds nothing that is already there.

Rows are matched on natural keys (e-mail, order number, service + location + start, slot +
customer), so a second run on the same day inserts nothing, and a run on a later day only adds
the new days' appointment slots. Demo bookings are made once, into an empty bookings table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine
from sqlmodel import Session, select

from core.db.models import AppointmentSlot, Booking, KbDocument, Order, Role, User
from seed.appointments import SeedSlot, booked_slot_indexes, build_slots
from seed.orders import build_orders
from seed.people import STAFF, build_customers

Progress = Callable[[str], None]


@dataclass(frozen=True)
class SeedReport:
    users: int
    orders: int
    slots: int
    bookings: int

    @property
    def total(self) -> int:
        return self.users + self.orders + self.slots + self.bookings


def is_seeded(engine: Engine) -> bool:
    """True once the demo customers and the seed knowledge base are in the database."""
    with Session(engine) as session:
        customer = session.exec(select(User.id).where(User.role == Role.CUSTOMER).limit(1))
        document = session.exec(select(KbDocument.id).where(KbDocument.source == "seed").limit(1))
        return customer.first() is not None and document.first() is not None


def seed_database(
    engine: Engine, *, today: date, timezone: str, progress: Progress | None = None
) -> SeedReport:
    """Insert the missing demo people, orders, slots and bookings; returns what it added."""
    say = progress or (lambda _message: None)
    with Session(engine) as session:
        say("Adding customers and staff…")
        users = _seed_users(session)
        say("Adding orders…")
        orders = _seed_orders(session, today)
        say("Adding appointment slots for the next 30 days…")
        slots = _seed_slots(session, build_slots(today, timezone))
        bookings = _seed_bookings(session, build_slots(today, timezone))
        session.commit()
    return SeedReport(users, orders, slots, bookings)


def _customers(session: Session) -> list[User]:
    emails = [person.email for person in build_customers()]
    by_email = {
        user.email: user for user in session.exec(select(User).where(User.email.in_(emails)))
    }
    return [by_email[email] for email in emails]


def _seed_users(session: Session) -> int:
    people = [*STAFF, *build_customers()]
    existing = set(session.exec(select(User.email)))
    missing = [p for p in people if p.email not in existing]
    session.add_all(
        User(name=p.name, email=p.email, role=p.role, phone=p.phone, city=p.city) for p in missing
    )
    session.flush()
    return len(missing)


def _seed_orders(session: Session, today: date) -> int:
    customers = _customers(session)
    existing = set(session.exec(select(Order.number)))
    missing = [o for o in build_orders(today, len(customers)) if o.number not in existing]
    session.add_all(
        Order(
            number=o.number,
            user_id=_id(customers[o.customer_index]),
            status=o.status,
            carrier=o.carrier,
            tracking_number=o.tracking_number,
            eta=o.eta,
            items=o.items,
            amount=o.amount,
            shipping_city=customers[o.customer_index].city,
            placed_at=o.placed_at,
            updated_at=o.placed_at,
        )
        for o in missing
    )
    session.flush()
    return len(missing)


def _seed_slots(session: Session, wanted: list[SeedSlot]) -> int:
    existing = set(
        session.exec(
            select(AppointmentSlot.service, AppointmentSlot.location, AppointmentSlot.starts_at)
        ).all()
    )
    missing = [s for s in wanted if (s.service, s.location, s.starts_at) not in existing]
    session.add_all(
        AppointmentSlot(
            service=s.service,
            location=s.location,
            starts_at=s.starts_at,
            duration_min=s.duration_min,
        )
        for s in missing
    )
    session.flush()
    return len(missing)


def _seed_bookings(session: Session, wanted: list[SeedSlot]) -> int:
    if session.exec(select(Booking.id).limit(1)).first() is not None:
        return 0
    customers = _customers(session)
    columns = (
        AppointmentSlot.service,
        AppointmentSlot.location,
        AppointmentSlot.starts_at,
        AppointmentSlot.id,
    )
    slot_ids = {
        (service, location, at): id_
        for service, location, at, id_ in session.exec(select(*columns))
    }
    pairs = booked_slot_indexes(len(wanted), len(customers))
    for slot_index, customer_index in pairs:
        slot = wanted[slot_index]
        slot_id = slot_ids[(slot.service, slot.location, slot.starts_at)]
        session.add(Booking(slot_id=slot_id, user_id=_id(customers[customer_index])))
    session.flush()
    return len(pairs)


def _id(user: User) -> int:
    if user.id is None:
        raise ValueError(f"user {user.email} has no id yet")
    return user.id
