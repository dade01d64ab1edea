"""Appointment tools: free slots on a day, booking one, moving the customer's booking.

Slots are stored in UTC; the model reads and writes them as wall-clock times in the stores' time
zone (``ToolContext.store_timezone``), e.g. ``2026-12-03T10:00:00-08:00``. A naive time the model
sends is read in that zone. A slot is free while its ``booked`` bookings are fewer than its
capacity.

Booking and moving a booking ask the customer first: ``propose_booking`` and
``propose_reschedule`` check the request and offer the day's free times (the one asked for first
when it is free), so the customer picks the time and confirms before anything changes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from core.db.models import AppointmentSlot, Booking, BookingStatus
from core.tools.registry import Choice, Proposal, Tool, ToolContext, ToolEffect, ToolError
from seed.appointments import SERVICES

SERVICE_NAMES = [service.name for service in SERVICES]
SERVICE_LOCATIONS = {service.name: service.locations for service in SERVICES}
MAX_SLOTS_LISTED = 16
_BOOKING_REF = re.compile(r"^\s*(?:BK)?[-\s#]*(\d+)\s*$", re.IGNORECASE)


def check_availability(context: ToolContext, arguments: Mapping[str, Any]) -> dict[str, Any]:
    """Free slots for a service on one day (store time), optionally at one location."""
    zone = ZoneInfo(context.store_timezone)
    service = str(arguments["service"])
    location = _location_for(service, arguments.get("location"))
    day = _parse_day(str(arguments["date"]))
    if day < context.now.astimezone(zone).date():
        raise ToolError(f"{day.isoformat()} is in the past; ask for a date from today on.")
    start = datetime.combine(day, time(0), zone).astimezone(UTC)
    with Session(context.engine) as session:
        slots = _free_slots(session, service, location, start, start + timedelta(days=1), context)
        later = [] if slots else _free_slots(session, service, location, start, None, context)
    result: dict[str, Any] = {
        "service": service,
        "date": day.isoformat(),
        "location": location,
        "timezone": context.store_timezone,
        "slots": [_slot_view(slot, zone) for slot in slots[:MAX_SLOTS_LISTED]],
    }
    if later:
        result["next_available"] = _slot_view(later[0], zone)
    return result


def propose_booking(context: ToolContext, arguments: Mapping[str, Any]) -> Proposal:
    """The question asked before booking: the day's free times for the service."""
    zone = ZoneInfo(context.store_timezone)
    service = str(arguments["service"])
    location = _location_for(service, arguments.get("location"))
    wanted = _parse_start(str(arguments["start"]), zone, context)
    with Session(context.engine) as session:
        slots = _day_slots(session, service, location, wanted, context)
    choices = tuple(
        Choice(
            _slot_label(slot, zone),
            {"service": service, "start": _local(slot.starts_at, zone), "location": slot.location},
        )
        for slot in slots
    )
    return Proposal(
        question=f"Book a {service} on {_day_label(wanted, zone)}? Pick a time:",
        confirm_label="Confirm booking",
        decline_label="Don't book",
        arguments=choices[0].arguments,
        choices=choices,
    )


def propose_reschedule(context: ToolContext, arguments: Mapping[str, Any]) -> Proposal:
    """The question asked before moving a booking: its current time and the day's free times."""
    zone = ZoneInfo(context.store_timezone)
    wanted = _parse_start(str(arguments["new_start"]), zone, context)
    with Session(context.engine) as session:
        booking, current = _own_booking(session, arguments.get("booking_id"), context)
        slots = _day_slots(session, current.service, current.location, wanted, context)
    reference = _reference(booking)
    choices = tuple(
        Choice(
            _slot_label(slot, zone),
            {"booking_id": reference, "new_start": _local(slot.starts_at, zone)},
        )
        for slot in slots
    )
    return Proposal(
        question=(
            f"Move your {current.service} ({_slot_label(current, zone)}) to "
            f"{_day_label(wanted, zone)}? Pick a time:"
        ),
        confirm_label="Confirm new time",
        decline_label="Keep my appointment",
        arguments=choices[0].arguments,
        choices=choices,
    )


def book_appointment(context: ToolContext, arguments: Mapping[str, Any]) -> dict[str, Any]:
    """Book a free slot for the customer."""
    zone = ZoneInfo(context.store_timezone)
    service = str(arguments["service"])
    location = _location_for(service, arguments.get("location"))
    starts_at = _parse_start(str(arguments["start"]), zone, context)
    with Session(context.engine) as session:
        slot = _free_slot_at(session, service, location, starts_at, context)
        booking = Booking(slot_id=_id(slot.id), user_id=context.user_id, created_at=context.now)
        session.add(booking)
        session.commit()
        session.refresh(booking)
        return {"booking_id": _reference(booking), **_slot_view(slot, zone), "service": service}


def reschedule_appointment(context: ToolContext, arguments: Mapping[str, Any]) -> dict[str, Any]:
    """Move one of the customer's upcoming bookings (by default the next one) to a free slot."""
    zone = ZoneInfo(context.store_timezone)
    new_start = _parse_start(str(arguments["new_start"]), zone, context)
    with Session(context.engine) as session:
        booking, current = _own_booking(session, arguments.get("booking_id"), context)
        target = _free_slot_at(session, current.service, current.location, new_start, context)
        booking.slot_id = _id(target.id)
        session.add(booking)
        session.commit()
        return {
            "booking_id": _reference(booking),
            "service": current.service,
            "location": target.location,
            "old_start": _local(current.starts_at, zone),
            "new_start": _local(target.starts_at, zone),
        }


def _free_slots(
    session: Session,
    service: str,
    location: str | None,
    start: datetime,
    end: datetime | None,
    context: ToolContext,
) -> list[AppointmentSlot]:
    """Slots of ``service`` from ``start`` (and not before now) to ``end`` with room left."""
    booked = (
        select(Booking.slot_id, func.count().label("taken"))
        .where(Booking.status == BookingStatus.BOOKED)
        .group_by(col(Booking.slot_id))
        .subquery()
    )
    statement = (
        select(AppointmentSlot)
        .outerjoin(booked, col(AppointmentSlot.id) == booked.c.slot_id)
        .where(
            AppointmentSlot.service == service,
            col(AppointmentSlot.starts_at) >= max(start, context.now.astimezone(UTC)),
            func.coalesce(booked.c.taken, 0) < AppointmentSlot.capacity,
        )
        .order_by(col(AppointmentSlot.starts_at), col(AppointmentSlot.location))
    )
    if end is not None:
        statement = statement.where(col(AppointmentSlot.starts_at) < end)
    if location:
        statement = statement.where(AppointmentSlot.location == location)
    return list(session.exec(statement.limit(200)))


def _free_slot_at(
    session: Session, service: str, location: str | None, starts_at: datetime, ctx: ToolContext
) -> AppointmentSlot:
    end = starts_at + timedelta(minutes=1)
    slots: Sequence[AppointmentSlot] = _free_slots(session, service, location, starts_at, end, ctx)
    if not slots:
        when = _local(starts_at, ZoneInfo(ctx.store_timezone))
        where = f" at the {location}" if location else ""
        raise ToolError(
            f"There is no free {service} slot at {when}{where}. Call check_availability for "
            "that day and offer the customer one of the free times."
        )
    return slots[0]


def _day_slots(
    session: Session,
    service: str,
    location: str | None,
    wanted: datetime,
    context: ToolContext,
) -> list[AppointmentSlot]:
    """The free slots on ``wanted``'s day (store time), the one at ``wanted`` first; a
    ``ToolError`` naming the next free time when the day is full."""
    zone = ZoneInfo(context.store_timezone)
    day = wanted.astimezone(zone).date()
    start = datetime.combine(day, time(0), zone).astimezone(UTC)
    slots = _free_slots(session, service, location, start, start + timedelta(days=1), context)
    if not slots:
        later = _free_slots(session, service, location, start, None, context)
        where = f" at the {location}" if location else ""
        after = f" The next free one is {_slot_label(later[0], zone)}." if later else ""
        raise ToolError(
            f"There is no free {service} slot{where} on {day.isoformat()}.{after} Ask the "
            "customer which other day suits them."
        )
    slots = slots[:MAX_SLOTS_LISTED]
    return sorted(slots, key=lambda slot: _as_utc(slot.starts_at) != wanted)


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _slot_label(slot: AppointmentSlot, zone: ZoneInfo) -> str:
    """``Tue 8 Dec, 10:00 AM · Seattle store``."""
    local = _as_utc(slot.starts_at).astimezone(zone)
    return f"{local:%a} {local.day} {local:%b}, {local:%I:%M %p}".replace(", 0", ", ") + (
        f" · {slot.location}"
    )


def _day_label(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local:%A} {local.day} {local:%B}"


def _own_booking(
    session: Session, reference: Any, context: ToolContext
) -> tuple[Booking, AppointmentSlot]:
    statement = (
        select(Booking, AppointmentSlot)
        .join(AppointmentSlot, col(AppointmentSlot.id) == Booking.slot_id)
        .where(
            Booking.user_id == context.user_id,
            Booking.status == BookingStatus.BOOKED,
            col(AppointmentSlot.starts_at) > context.now.astimezone(UTC),
        )
    )
    booking_id = _booking_id(reference)
    if booking_id is not None:
        statement = statement.where(Booking.id == booking_id)
    row = session.exec(statement.order_by(col(AppointmentSlot.starts_at))).first()
    if row is None:
        which = f"booking {reference}" if booking_id is not None else "upcoming appointment"
        raise ToolError(f"There is no {which} on your account that can still be moved.")
    return row


def _location_for(service: str, value: Any) -> str | None:
    """The store offering ``service`` that ``value`` names ("seattle", "video"…); None for any."""
    if value is None or not str(value).strip():
        return None
    wanted = str(value).strip().lower()
    offered = SERVICE_LOCATIONS[service]
    for location in offered:
        if wanted in location.lower() or location.lower().split()[0] in wanted:
            return location
    raise ToolError(f"{service} is offered only at: {', '.join(offered)}.")


def _booking_id(reference: Any) -> int | None:
    """``BK-12`` or ``12`` → 12; empty or "my next appointment" → None (the next one)."""
    if reference is None:
        return None
    match = _BOOKING_REF.match(str(reference))
    return int(match.group(1)) if match else None


def _parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError as exc:
        raise ToolError(f"{text!r} is not a date; send it as YYYY-MM-DD.") from exc


def _parse_start(text: str, zone: ZoneInfo, context: ToolContext) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise ToolError(
            f"{text!r} is not a date and time; send it as YYYY-MM-DDTHH:MM in store time."
        ) from exc
    moment = moment.replace(tzinfo=zone) if moment.tzinfo is None else moment
    if moment <= context.now:
        raise ToolError(f"{_local(moment, zone)} has already passed; choose a later time.")
    return moment.astimezone(UTC)


def _slot_view(slot: AppointmentSlot, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "start": _local(slot.starts_at, zone),
        "location": slot.location,
        "duration_min": slot.duration_min,
    }


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).isoformat(timespec="minutes")


def _reference(booking: Booking) -> str:
    return f"BK-{booking.id}"


def _id(value: int | None) -> int:
    if value is None:
        raise ToolError("That slot is not saved yet; try again.")
    return value


_SERVICE = {"type": "string", "enum": SERVICE_NAMES, "description": "The service wanted."}
_LOCATION = {
    "type": "string",
    "description": "Seattle store, Portland store or Online (video call); omit for any.",
}

APPOINTMENT_TOOLS = (
    Tool(
        name="check_availability",
        description=(
            "List free appointment slots for a service on one day, in store time "
            "(Mon–Sat 9:00–16:00 Pacific). Gives the next free slot when that day is full."
        ),
        parameters={
            "type": "object",
            "properties": {
                "service": _SERVICE,
                "date": {"type": "string", "format": "date", "description": "Day, YYYY-MM-DD."},
                "location": _LOCATION,
            },
            "required": ["service", "date"],
        },
        function=check_availability,
        effect=ToolEffect.READS_LIVE_STATE,
    ),
    Tool(
        name="book_appointment",
        description="Book a free appointment slot for the customer (check availability first).",
        parameters={
            "type": "object",
            "properties": {
                "service": _SERVICE,
                "start": {
                    "type": "string",
                    "format": "date-time",
                    "description": "Slot start in store time, e.g. 2026-12-03T10:00.",
                },
                "location": _LOCATION,
            },
            "required": ["service", "start"],
        },
        function=book_appointment,
        effect=ToolEffect.SIDE_EFFECTS,
        propose=propose_booking,
    ),
    Tool(
        name="reschedule_appointment",
        description=(
            "Move the customer's appointment to another free time at the same place. Without "
            "booking_id it moves their next upcoming appointment."
        ),
        parameters={
            "type": "object",
            "properties": {
                "booking_id": {
                    "type": "string",
                    "description": "Booking reference such as BK-12; omit for the next one.",
                },
                "new_start": {
                    "type": "string",
                    "format": "date-time",
                    "description": "New start in store time, e.g. 2026-12-03T14:00.",
                },
            },
            "required": ["new_start"],
        },
        function=reschedule_appointment,
        effect=ToolEffect.SIDE_EFFECTS,
        propose=propose_reschedule,
    ),
)
