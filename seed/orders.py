"""Demo orders: 240 orders in every state a support chat is asked about, the same on every run."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from core.db.models import OrderStatus

ORDER_COUNT = 240
FIRST_ORDER_NUMBER = 10001

CATALOGUE: tuple[tuple[str, str, Decimal], ...] = (
    ("NW-JKT-220", "Ridgeline Rain Jacket", Decimal("189.00")),
    ("NW-JKT-310", "Summit Down Parka", Decimal("329.00")),
    ("NW-BPK-045", "Trailhead 45L Backpack", Decimal("159.00")),
    ("NW-BPK-022", "Daytripper 22L Pack", Decimal("89.00")),
    ("NW-TNT-002", "Basecamp 2-Person Tent", Decimal("279.00")),
    ("NW-BOT-118", "Cascade Waterproof Hiking Boots", Decimal("174.00")),
    ("NW-BOT-204", "Approach Trail Runners", Decimal("129.00")),
    ("NW-GPS-900", "Pathfinder GPS Watch", Decimal("349.00")),
    ("NW-LMP-350", "Lumen 350 Headlamp", Decimal("49.00")),
    ("NW-SLP-015", "Alpine 15°F Sleeping Bag", Decimal("219.00")),
    ("NW-STV-010", "Micro Camp Stove", Decimal("64.00")),
    ("NW-BTL-750", "Insulated Bottle 750 ml", Decimal("32.00")),
    ("NW-SCK-003", "Merino Hiking Socks (3-pack)", Decimal("36.00")),
    ("NW-POL-120", "Carbon Trekking Poles", Decimal("139.00")),
)

CARRIERS = ("UPS", "FedEx", "USPS", "DHL")

# (status, weight): most orders are delivered, as in a real shop.
_STATUS_MIX: tuple[tuple[OrderStatus, int], ...] = (
    (OrderStatus.DELIVERED, 40),
    (OrderStatus.IN_TRANSIT, 14),
    (OrderStatus.SHIPPED, 10),
    (OrderStatus.PROCESSING, 9),
    (OrderStatus.PACKED, 6),
    (OrderStatus.OUT_FOR_DELIVERY, 6),
    (OrderStatus.DELAYED, 6),
    (OrderStatus.CANCELLED, 5),
    (OrderStatus.RETURNED, 4),
)

_SHIPPED_STATES = {
    OrderStatus.SHIPPED,
    OrderStatus.IN_TRANSIT,
    OrderStatus.OUT_FOR_DELIVERY,
    OrderStatus.DELIVERED,
    OrderStatus.DELAYED,
    OrderStatus.RETURNED,
}


@dataclass(frozen=True)
class SeedOrder:
    number: str
    customer_index: int
    """Index into the seeded customer list."""
    status: OrderStatus
    carrier: str | None
    tracking_number: str | None
    eta: date | None
    items: list[dict[str, Any]]
    amount: Decimal
    placed_at: datetime


def build_orders(anchor: date, customer_count: int, count: int = ORDER_COUNT) -> list[SeedOrder]:
    """``count`` orders placed in the 90 days before ``anchor``, with consistent states and ETAs."""
    rng = random.Random(4242)
    statuses = [status for status, _ in _STATUS_MIX]
    weights = [weight for _, weight in _STATUS_MIX]
    orders = []
    for offset in range(count):
        status = rng.choices(statuses, weights)[0]
        days_ago = _days_ago_for(status, rng)
        placed_at = datetime.combine(anchor - timedelta(days=days_ago), time(0), UTC)
        placed_at += timedelta(minutes=rng.randint(7 * 60, 22 * 60))
        items = _items(rng)
        amount = sum((Decimal(i["unit_price"]) * i["quantity"] for i in items), Decimal(0))
        carrier = rng.choice(CARRIERS) if status in _SHIPPED_STATES else None
        orders.append(
            SeedOrder(
                number=f"ORD-{FIRST_ORDER_NUMBER + offset}",
                customer_index=(offset * 7 + rng.randint(0, 3)) % customer_count,
                status=status,
                carrier=carrier,
                tracking_number=_tracking(carrier, rng) if carrier else None,
                eta=_eta(status, placed_at.date(), anchor, rng),
                items=items,
                amount=amount.quantize(Decimal("0.01")),
                placed_at=placed_at,
            )
        )
    return orders


def _days_ago_for(status: OrderStatus, rng: random.Random) -> int:
    if status in (OrderStatus.PROCESSING, OrderStatus.PACKED):
        return rng.randint(0, 2)
    if status in (OrderStatus.SHIPPED, OrderStatus.IN_TRANSIT, OrderStatus.OUT_FOR_DELIVERY):
        return rng.randint(2, 6)
    if status is OrderStatus.DELAYED:
        return rng.randint(6, 12)
    return rng.randint(8, 90)


def _items(rng: random.Random) -> list[dict[str, Any]]:
    picks = rng.sample(CATALOGUE, k=rng.choice((1, 1, 1, 2, 2, 3)))
    return [
        {"sku": sku, "name": name, "quantity": rng.choice((1, 1, 1, 2)), "unit_price": str(price)}
        for sku, name, price in picks
    ]


def _tracking(carrier: str, rng: random.Random) -> str:
    digits = "".join(str(rng.randint(0, 9)) for _ in range(12))
    prefixes = {"UPS": "1Z", "FedEx": "FX", "USPS": "94", "DHL": "JD"}
    return prefixes[carrier] + digits


def _eta(status: OrderStatus, placed: date, anchor: date, rng: random.Random) -> date | None:
    match status:
        case OrderStatus.CANCELLED | OrderStatus.RETURNED:
            return None
        case OrderStatus.DELIVERED:
            return placed + timedelta(days=rng.randint(3, 6))
        case OrderStatus.OUT_FOR_DELIVERY:
            return anchor
        case OrderStatus.DELAYED:
            return anchor + timedelta(days=rng.randint(2, 5))
        case _:
            return anchor + timedelta(days=rng.randint(1, 5))
