"""Order tools: look up an order's status, cancel an order that has not left the warehouse.

Cancelling asks the customer first (``propose_cancel``: the order, its amount and where the
refund goes); the cancellation itself runs only once they confirm.

Both act only on the calling customer's orders: someone else's order number gets the same answer
as one that does not exist, so order numbers cannot be probed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlmodel import Session, col, select

from core.db.models import Order, OrderStatus
from core.tools.registry import Proposal, Tool, ToolContext, ToolEffect, ToolError

CANCELLABLE = frozenset({OrderStatus.PROCESSING})
"""States in which an order may still be cancelled: it has not been packed for the carrier."""

_ORDER_NUMBER = re.compile(r"^\s*(?:ORD)?[-\s#]*(\d{4,})\s*$", re.IGNORECASE)
_NUMBER_SCHEMA = {
    "type": "string",
    "description": "The order number, e.g. ORD-10042 (from the confirmation e-mail).",
    "minLength": 4,
    "maxLength": 20,
}
_WHY_NOT = {
    OrderStatus.PACKED: "it is already packed and waiting for the carrier",
    OrderStatus.SHIPPED: "it has already shipped",
    OrderStatus.IN_TRANSIT: "it has already shipped and is in transit",
    OrderStatus.OUT_FOR_DELIVERY: "it is already out for delivery",
    OrderStatus.DELAYED: "it has already shipped (it is delayed in transit)",
    OrderStatus.DELIVERED: "it has already been delivered",
    OrderStatus.RETURNED: "it has already been returned",
}


def get_order_status(context: ToolContext, arguments: Mapping[str, Any]) -> dict[str, Any]:
    """Status, carrier, tracking number, ETA and items of one of the customer's orders."""
    order = _own_order(context, str(arguments["order_number"]))
    return {
        "order_number": order.number,
        "status": order.status.value,
        "carrier": order.carrier,
        "tracking_number": order.tracking_number,
        "eta": order.eta.isoformat() if order.eta else None,
        "placed_at": order.placed_at.date().isoformat(),
        "items": [
            {"name": item.get("name"), "quantity": item.get("quantity")} for item in order.items
        ],
        "total": f"{order.amount} {order.currency}",
        "can_cancel": order.status in CANCELLABLE,
    }


def propose_cancel(context: ToolContext, arguments: Mapping[str, Any]) -> Proposal:
    """The question asked before cancelling: the order, its amount and where the money goes."""
    order = _cancellable_order(context, str(arguments["order_number"]))
    return Proposal(
        question=(
            f"Cancel {order.number} — {format_money(order.amount, order.currency)}, refunded "
            "to your original payment method?"
        ),
        confirm_label="Confirm",
        decline_label="Keep my order",
        arguments={"order_number": order.number},
    )


def cancel_order(context: ToolContext, arguments: Mapping[str, Any]) -> dict[str, Any]:
    """Cancel one of the customer's orders if it is still being processed."""
    order = _cancellable_order(context, str(arguments["order_number"]))
    with Session(context.engine) as session:
        changed = cast(
            CursorResult[Any],
            session.execute(
                update(Order)
                .where(col(Order.id) == order.id, col(Order.status).in_(list(CANCELLABLE)))
                .values(status=OrderStatus.CANCELLED, updated_at=context.now)
            ),
        )
        session.commit()
    if changed.rowcount != 1:
        raise ToolError(f"{order.number} changed state just now; look up its status again.")
    return {
        "order_number": order.number,
        "cancelled": True,
        "status": OrderStatus.CANCELLED.value,
        "refund": f"{order.amount} {order.currency} to the original payment method within "
        "5–7 business days",
    }


def normalise_order_number(text: str) -> str:
    """``ord 10042``, ``#10042`` or ``ORD-10042`` → ``ORD-10042``; ``ToolError`` otherwise."""
    match = _ORDER_NUMBER.match(text)
    if match is None:
        raise ToolError(f"{text!r} is not an order number; they look like ORD-10042.")
    return f"ORD-{match.group(1)}"


def format_money(amount: Decimal, currency: str) -> str:
    """``$1,105.00`` for US dollars, ``1,105.00 EUR`` otherwise."""
    return f"${amount:,.2f}" if currency == "USD" else f"{amount:,.2f} {currency}"


def _cancellable_order(context: ToolContext, text: str) -> Order:
    order = _own_order(context, text)
    if order.status is OrderStatus.CANCELLED:
        raise ToolError(f"{order.number} is already cancelled; nothing more to do.")
    if order.status not in CANCELLABLE:
        reason = _WHY_NOT.get(order.status, f"its status is {order.status.value}")
        raise ToolError(
            f"{order.number} cannot be cancelled because {reason}. It can be returned within "
            "30 days of delivery instead (60 days for Trail Club members)."
        )
    return order


def _own_order(context: ToolContext, text: str) -> Order:
    number = normalise_order_number(text)
    with Session(context.engine) as session:
        order = session.exec(
            select(Order).where(Order.number == number, Order.user_id == context.user_id)
        ).first()
    if order is None:
        raise ToolError(f"There is no order with the number {number} on your account.")
    return order


ORDER_TOOLS = (
    Tool(
        name="get_order_status",
        description=(
            "Look up one of the customer's orders by its order number: status, carrier, "
            "tracking number, estimated delivery date and items."
        ),
        parameters={
            "type": "object",
            "properties": {"order_number": _NUMBER_SCHEMA},
            "required": ["order_number"],
        },
        function=get_order_status,
        effect=ToolEffect.READS_LIVE_STATE,
    ),
    Tool(
        name="cancel_order",
        description=(
            "Cancel one of the customer's orders. Only possible while the order is still "
            "processing; shipped or delivered orders must be returned instead."
        ),
        parameters={
            "type": "object",
            "properties": {"order_number": _NUMBER_SCHEMA},
            "required": ["order_number"],
        },
        function=cancel_order,
        effect=ToolEffect.SIDE_EFFECTS,
        propose=propose_cancel,
    ),
)
