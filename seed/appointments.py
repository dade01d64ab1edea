"""Appointment slots for the next 30 days and a few existing bookings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SLOT_DAYS = 30
OPENING_HOURS = range(9, 17)
"""Slots start on the hour from 9:00 to 16:00, Monday to Saturday, in the stores' time zone."""


@dataclass(frozen=True)
class Service:
    name: str
    duration_min: int
    locations: tuple[str, ...]


SERVICES = (
    Service("gear fitting", 45, ("Seattle store", "Portland store")),
    Service("repair drop-off", 30, ("Seattle store", "Portland store")),
    Service("bike service", 60, ("Seattle store",)),
    Service("virtual consultation", 30, ("Online (video call)",)),
)


@dataclass(frozen=True)
class SeedSlot:
    service: str
    location: str
    starts_at: datetime
    duration_min: int


def build_slots(today: date, timezone: str, days: int = SLOT_DAYS) -> list[SeedSlot]:
    """Every slot from tomorrow for ``days`` days, Monday to Saturday, for every service.

    Opening hours are wall-clock times in ``timezone``; ``starts_at`` is stored in UTC.
    """
    zone = ZoneInfo(timezone)
    slots = []
    for offset in range(1, days + 1):
        day = today + timedelta(days=offset)
        if day.weekday() == 6:
            continue
        for service in SERVICES:
            for location in service.locations:
                for hour in OPENING_HOURS:
                    slots.append(
                        SeedSlot(
                            service.name,
                            location,
                            datetime.combine(day, time(hour), zone).astimezone(UTC),
                            service.duration_min,
                        )
                    )
    return slots


def booked_slot_indexes(slot_count: int, customer_count: int) -> list[tuple[int, int]]:
    """(slot index, customer index) pairs for the demo's existing bookings: every 37th slot."""
    return [(slot, (slot // 37) % customer_count) for slot in range(5, slot_count, 37)]
