"""The demo guide: each customer's orders and bookings, and things to try made from them."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from core.db import create_db_engine, init_schema
from core.db.models import Booking, BookingStatus, Order, OrderStatus
from core.directory import customer_guide, list_customers
from seed.loader import seed_database

ZONE = "America/Los_Angeles"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    path: Path = tmp_path_factory.mktemp("directory") / "app.db"
    engine = create_db_engine(f"sqlite:///{path}")
    init_schema(engine)
    seed_database(engine, today=datetime.now(UTC).date(), timezone=ZONE)
    return engine


def _orders(db: Engine, user_id: int) -> dict[str, OrderStatus]:
    with Session(db) as session:
        rows = session.exec(select(Order).where(Order.user_id == user_id))
        return {order.number: order.status for order in rows}


def test_every_customer_sees_their_own_orders_and_bookings(db: Engine) -> None:
    for customer in list_customers(db):
        guide = customer_guide(db, customer.id or 0, timezone=ZONE)

        assert {o.number: o.status for o in guide.orders} == _orders(db, customer.id or 0)
        with Session(db) as session:
            booked = session.exec(select(Booking).where(Booking.user_id == customer.id)).all()
        assert len(guide.bookings) == len(booked)
        assert all(b.starts_at.utcoffset() is not None for b in guide.bookings)


def test_things_to_try_follow_the_customers_own_data(db: Engine) -> None:
    guides = {c.id: customer_guide(db, c.id or 0, timezone=ZONE) for c in list_customers(db)}

    for user_id, guide in guides.items():
        own = _orders(db, user_id or 0)
        named = [n for t in guide.things_to_try for n in re.findall(r"ORD-\d+", t)]
        assert 3 <= len(guide.things_to_try) <= 5
        assert [n for n in named if n not in own] == [named[-1]]  # one someone else's order
        cancellable = {OrderStatus.PROCESSING, OrderStatus.PACKED}
        for text in guide.things_to_try[:-1]:
            for number in re.findall(r"ORD-\d+", text):
                assert ("cancel" in text) == (own[number] in cancellable), text
        if not own:
            assert "return" in guide.things_to_try[0]
        if any(b.status is BookingStatus.BOOKED for b in guide.bookings):
            assert any("move my" in t for t in guide.things_to_try)
        else:
            assert any("book a" in t for t in guide.things_to_try)
    assert len({g.things_to_try for g in guides.values()}) > len(guides) // 2  # not canned
