"""Counts of the demo data, for the Home page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from core.db.models import (
    AppointmentSlot,
    Booking,
    DocumentStatus,
    KbDocument,
    Order,
    Role,
    User,
    utcnow,
)


@dataclass(frozen=True)
class DemoDataSummary:
    users_by_role: dict[str, int]
    orders_by_status: dict[str, int]
    slots_next_30_days: int
    bookings: int
    documents: int
    chunks: int

    @property
    def orders(self) -> int:
        return sum(self.orders_by_status.values())


def summarise_demo_data(engine: Engine) -> DemoDataSummary:
    """How many customers, orders (by status), slots, bookings and indexed documents there are."""
    now = utcnow()
    with Session(engine) as session:
        roles = session.exec(select(User.role, func.count()).group_by(User.role)).all()
        statuses = session.exec(select(Order.status, func.count()).group_by(Order.status)).all()
        slots = session.exec(
            select(func.count()).where(
                col(AppointmentSlot.starts_at) >= now,
                col(AppointmentSlot.starts_at) < now + timedelta(days=30),
            )
        ).one()
        bookings = session.exec(select(func.count()).select_from(Booking)).one()
        documents, chunks = session.exec(
            select(func.count(), func.coalesce(func.sum(KbDocument.chunk_count), 0)).where(
                KbDocument.status == DocumentStatus.INDEXED
            )
        ).one()
    return DemoDataSummary(
        users_by_role={Role(role).value: count for role, count in roles},
        orders_by_status={str(status): count for status, count in statuses},
        slots_next_30_days=slots,
        bookings=bookings,
        documents=documents,
        chunks=int(chunks),
    )
