from datetime import UTC, date, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from core.db import create_db_engine, init_schema
from core.db.models import AppointmentSlot, Booking, Order, OrderStatus, Role, User
from seed.loader import seed_database

TODAY = date(2026, 11, 23)
ZONE = "America/Los_Angeles"


def _count(session: Session, model: type) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def test_seed_loads_the_demo_data(database_url: str) -> None:
    engine = create_db_engine(database_url)
    init_schema(engine)

    report = seed_database(engine, today=TODAY, timezone=ZONE)

    with Session(engine) as session:
        customers = session.exec(select(User).where(User.role == Role.CUSTOMER)).all()
        statuses = set(session.exec(select(Order.status)).all())
        first, last = session.exec(
            select(func.min(AppointmentSlot.starts_at), func.max(AppointmentSlot.starts_at))
        ).one()
        agents = session.exec(select(User).where(User.role == Role.AGENT)).all()
        orders = _count(session, Order)
    assert len(customers) >= 50
    assert len({c.email for c in customers}) == len(customers)
    assert agents
    assert orders >= 200
    assert {OrderStatus.DELIVERED, OrderStatus.IN_TRANSIT, OrderStatus.PROCESSING} <= statuses
    assert {OrderStatus.DELAYED, OrderStatus.CANCELLED} <= statuses
    assert first.date() >= TODAY
    assert last.date() <= TODAY + timedelta(days=31)
    assert report.slots > 1000
    assert report.bookings > 0


def test_seeding_twice_gives_the_same_rows(database_url: str) -> None:
    engine = create_db_engine(database_url)
    init_schema(engine)
    seed_database(engine, today=TODAY, timezone=ZONE)
    with Session(engine) as session:
        before = {m.__name__: _count(session, m) for m in (User, Order, AppointmentSlot, Booking)}
        orders_before = session.exec(select(Order.number, Order.status, Order.amount)).all()

    again = seed_database(engine, today=TODAY, timezone=ZONE)

    with Session(engine) as session:
        after = {m.__name__: _count(session, m) for m in (User, Order, AppointmentSlot, Booking)}
        orders_after = session.exec(select(Order.number, Order.status, Order.amount)).all()
    assert again.total == 0
    assert after == before
    assert sorted(orders_after) == sorted(orders_before)


def test_a_later_day_only_adds_that_days_slots(database_url: str) -> None:
    engine = create_db_engine(database_url)
    init_schema(engine)
    seed_database(engine, today=TODAY, timezone=ZONE)

    report = seed_database(engine, today=TODAY + timedelta(days=1), timezone=ZONE)

    assert (report.users, report.orders, report.bookings) == (0, 0, 0)
    assert 0 < report.slots <= 48


def test_slots_follow_store_opening_hours() -> None:
    from zoneinfo import ZoneInfo

    from seed.appointments import build_slots

    slots = build_slots(TODAY, ZONE)

    local = [s.starts_at.astimezone(ZoneInfo(ZONE)) for s in slots]
    assert all(s.starts_at.tzinfo is UTC for s in slots)
    assert {t.hour for t in local} == set(range(9, 17))
    assert all(t.weekday() != 6 for t in local)
    assert min(local).date() == TODAY + timedelta(days=1)
    assert {s.duration_min for s in slots if s.service == "bike service"} == {60}
