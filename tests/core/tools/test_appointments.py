"""Appointment tools: free slots in store time, booking, and moving the customer's own booking."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from core.db.models import AppointmentSlot, Booking
from tests.core.tools.conftest import Shop

TUESDAY = "2026-11-24"


def free_times(shop: Shop, user_id: int | None, service: str, day: str, **where: str) -> list[str]:
    result = shop.run(user_id, "check_availability", service=service, date=day, **where)
    assert result.ok, result.content
    return [slot["start"] for slot in json.loads(result.content)["slots"]]


def booking_of(shop: Shop, user_id: int | None) -> tuple[Booking, AppointmentSlot]:
    with Session(shop.engine) as session:
        row = session.exec(
            select(Booking, AppointmentSlot)
            .join(AppointmentSlot, col(AppointmentSlot.id) == Booking.slot_id)
            .where(Booking.user_id == user_id)
            .order_by(col(AppointmentSlot.starts_at))
        ).first()
    assert row is not None
    return row


def a_customer_with_a_booking(shop: Shop) -> int:
    with Session(shop.engine) as session:
        user_id = session.exec(select(Booking.user_id).order_by(col(Booking.id))).first()
    assert user_id is not None
    return user_id


def test_availability_lists_opening_hours_in_store_time(shop: Shop) -> None:
    customer = shop.customers()[0]

    times = free_times(shop, customer.id, "bike service", TUESDAY, location="Seattle store")

    assert times[0] == "2026-11-24T09:00-08:00"
    assert times[-1] == "2026-11-24T16:00-08:00"
    assert all(t.endswith("-08:00") for t in times)


def test_booked_slot_disappears_from_availability(any_shop: Shop) -> None:
    first, second = any_shop.customers()[:2]
    where = {"location": "Portland store"}
    before = free_times(any_shop, first.id, "gear fitting", TUESDAY, **where)
    wanted = before[1]

    booked = any_shop.run(
        first.id, "book_appointment", service="gear fitting", start=wanted, **where
    )
    again = any_shop.run(
        second.id, "book_appointment", service="gear fitting", start=wanted, **where
    )

    assert booked.ok, booked.content
    assert json.loads(booked.content)["start"] == wanted
    assert wanted not in free_times(any_shop, second.id, "gear fitting", TUESDAY, **where)
    assert not again.ok and "no free gear fitting slot" in json.loads(again.content)["error"]


def test_sunday_has_no_slots_but_names_the_next_free_one(shop: Shop) -> None:
    result = shop.run(1, "check_availability", service="virtual consultation", date="2026-11-29")

    answer = json.loads(result.content)
    assert answer["slots"] == []
    assert answer["next_available"]["start"] == "2026-11-30T09:00-08:00"


def test_availability_refuses_past_dates_and_unknown_services(shop: Shop) -> None:
    past = shop.run(1, "check_availability", service="bike service", date="2026-11-01")
    unknown = shop.run(1, "check_availability", service="kayak rental", date=TUESDAY)
    not_a_date = shop.run(1, "check_availability", service="bike service", date="next Tuesday")

    assert "is in the past" in json.loads(past.content)["error"]
    assert "is not one of" in json.loads(unknown.content)["error"]
    assert "is not a date" in json.loads(not_a_date.content)["error"]


def test_next_appointment_is_moved_on_both_databases(any_shop: Shop) -> None:
    user_id = a_customer_with_a_booking(any_shop)
    booking, slot = booking_of(any_shop, user_id)
    new_start = "2026-11-28T15:00"

    result = any_shop.run(user_id, "reschedule_appointment", new_start=new_start)

    assert result.ok, result.content
    answer = json.loads(result.content)
    assert answer["booking_id"] == f"BK-{booking.id}"
    assert answer["new_start"] == "2026-11-28T15:00-08:00"
    moved, moved_slot = booking_of(any_shop, user_id)
    assert moved.id == booking.id
    assert moved_slot.starts_at == datetime(2026, 11, 28, 23, 0, tzinfo=UTC)
    assert (moved_slot.service, moved_slot.location) == (slot.service, slot.location)


def test_moving_onto_a_taken_slot_is_refused(shop: Shop) -> None:
    user_id = a_customer_with_a_booking(shop)
    _, slot = booking_of(shop, user_id)
    other = next(c for c in shop.customers() if c.id != user_id)
    taken = "2026-12-01T11:00"
    shop.run(
        other.id, "book_appointment", service=slot.service, start=taken, location=slot.location
    )

    result = shop.run(user_id, "reschedule_appointment", new_start=taken)

    assert not result.ok and "no free" in json.loads(result.content)["error"]
    assert booking_of(shop, user_id)[1].id == slot.id


def test_someone_elses_booking_cannot_be_moved(shop: Shop) -> None:
    owner = a_customer_with_a_booking(shop)
    booking, slot = booking_of(shop, owner)
    stranger = next(c for c in shop.customers() if c.id != owner)

    result = shop.run(
        stranger.id,
        "reschedule_appointment",
        booking_id=f"BK-{booking.id}",
        new_start="2026-12-02T10:00",
    )

    assert not result.ok
    assert f"no booking BK-{booking.id} on your account" in json.loads(result.content)["error"]
    assert booking_of(shop, owner)[1].id == slot.id


def test_reschedule_needs_a_readable_future_time(shop: Shop) -> None:
    user_id = a_customer_with_a_booking(shop)

    vague = shop.run(user_id, "reschedule_appointment", new_start="Friday afternoon")
    past = shop.run(user_id, "reschedule_appointment", new_start="2026-11-20T10:00")

    assert "is not a date and time" in json.loads(vague.content)["error"]
    assert "has already passed" in json.loads(past.content)["error"]


def test_store_is_understood_loosely_but_must_offer_the_service(shop: Shop) -> None:
    loose = free_times(shop, 1, "gear fitting", TUESDAY, location="portland")
    elsewhere = shop.run(
        1, "check_availability", service="bike service", date=TUESDAY, location="Portland"
    )

    assert len(loose) == 8
    assert json.loads(elsewhere.content) == {
        "error": "bike service is offered only at: Seattle store."
    }
