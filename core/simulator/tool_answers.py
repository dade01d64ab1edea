"""Turning tool results (JSON or text) into plain-English sentences for the customer.

Results are read by their keys, not by tool name, so an order lookup, a slot search, a
cancellation or a new ticket each read naturally whatever the tool is called. An error is told
in the customer's terms (see ``tool_errors``): what went wrong, with dates written out, and what
to ask them, never the instructions the tool wrote for the model.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from core.simulator.tool_errors import error_of, read_error
from core.simulator.values import STORE_ZONE

_ISO_MOMENT = re.compile(r"\b\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:\d{2})?)?")
_SOMETHING_BROKE = (
    "I'm sorry, something went wrong on our side and I couldn't complete that. Please try again "
    "in a moment, or I can pass this to a colleague."
)
_STATUS_PHRASES = {
    "processing": "is being processed in our warehouse",
    "packed": "is packed and waiting for the carrier",
    "shipped": "has shipped",
    "in_transit": "is in transit",
    "out_for_delivery": "is out for delivery today",
    "delivered": "was delivered",
    "delayed": "is delayed",
    "cancelled": "has been cancelled",
    "returned": "has been returned to us",
    "booked": "is booked",
}


def describe_tool_result(name: str, result: str) -> str:
    """One or two sentences saying what a tool result means for the customer."""
    data = _parse(result)
    if isinstance(data, Mapping):
        return _describe_mapping(name, data)
    if isinstance(data, list):
        return _describe_list(name, data)
    text = str(data).strip()
    return text if text else f"The {name.replace('_', ' ')} step returned nothing."


def format_day(value: str) -> str:
    """``2026-12-03`` → ``Thursday 3 December``; date-times also get the Pacific time of day."""
    moment = _parse_moment(value)
    if moment is None:
        return value
    if isinstance(moment, datetime):
        local = moment.astimezone(STORE_ZONE) if moment.tzinfo else moment
        hour = local.strftime("%I:%M %p").lstrip("0")
        suffix = " PT" if moment.tzinfo else ""
        return f"{local:%A} {local.day} {local:%B} at {hour}{suffix}"
    return f"{moment:%A} {moment.day} {moment:%B}"


def _describe_mapping(name: str, data: Mapping[str, Any]) -> str:
    for matches, describe in _DESCRIBERS:
        if matches(name, data):
            return describe(data)
    return _describe_generic(data)


def _is_error(name: str, data: Mapping[str, Any]) -> bool:
    return error_of(data) is not None


def _is_declined(name: str, data: Mapping[str, Any]) -> bool:
    return data.get("declined") is True


def _describe_declined(data: Mapping[str, Any]) -> str:
    return "All right — I've left everything as it was; nothing has been changed."


def _is_slots(name: str, data: Mapping[str, Any]) -> bool:
    return isinstance(_first(data, "slots", "available_slots", "availability"), list)


def _is_ticket(name: str, data: Mapping[str, Any]) -> bool:
    return "ticket" in name or _first(data, "ticket_id", "ticket_number") is not None


def _is_cancellation(name: str, data: Mapping[str, Any]) -> bool:
    return "cancel" in name or data.get("cancelled") is True


def _is_booking(name: str, data: Mapping[str, Any]) -> bool:
    return (
        "schedul" in name or "book" in name or _first(data, "booking_id", "new_start") is not None
    )


def _is_order(name: str, data: Mapping[str, Any]) -> bool:
    return _first(data, "order_number", "order", "tracking_number", "carrier") is not None


def _describe_error(data: Mapping[str, Any]) -> str:
    reading = read_error(error_of(data) or "")
    if not reading.facts and not reading.questions:
        return _SOMETHING_BROKE
    facts = ". ".join(_ISO_MOMENT.sub(lambda m: format_day(m.group()), f) for f in reading.facts)
    told = f"I wasn't able to complete that: {facts}." if facts else "I wasn't able to do that."
    return " ".join((told, *reading.questions))


def _describe_slots(data: Mapping[str, Any]) -> str:
    slots = _first(data, "slots", "available_slots", "availability") or []
    service = _first(data, "service") or "that service"
    if not slots:
        return f"I'm sorry, there are no free {service} slots then. Would another day work?"
    times = [_slot_text(slot) for slot in slots[:5]]
    more = f" (and {len(slots) - 5} more)" if len(slots) > 5 else ""
    return (
        f"These {service} slots are free: {_join(times)}{more}. "
        "Would you like me to book one of them?"
    )


def _describe_ticket(data: Mapping[str, Any]) -> str:
    ticket = _first(data, "ticket_id", "ticket_number", "id")
    priority = _first(data, "priority")
    level = f" with {priority} priority" if priority else ""
    return (
        f"I've opened support ticket #{ticket}{level}. A member of our team will follow up "
        "by e-mail, usually within one business day."
    )


def _describe_cancellation(data: Mapping[str, Any]) -> str:
    order = _first(data, "order_number", "order", "booking_id") or "your order"
    refund = _first(data, "refund", "refund_amount", "refund_status")
    extra = f" Your refund ({refund}) is on its way." if refund else ""
    if data.get("cancelled") is False or str(data.get("status", "")).lower() == "not_cancelled":
        reason = _first(data, "reason", "message") or "it can no longer be changed"
        return f"I couldn't cancel {order}: {str(reason).rstrip('.')}."
    return f"Done — {order} has been cancelled.{extra}"


def _describe_booking(data: Mapping[str, Any]) -> str:
    start = _first(data, "new_start", "starts_at", "start", "start_time")
    service = _first(data, "service") or "appointment"
    where = _first(data, "location")
    place = f" at the {where}" if where else ""
    when = format_day(str(start)) if start else "the new time"
    return f"Your {service} is now booked for {when}{place}. You'll get a confirmation e-mail."


def _describe_order(data: Mapping[str, Any]) -> str:
    number = _first(data, "order_number", "order", "number") or "Your order"
    status = str(_first(data, "status") or "").lower()
    phrase = _STATUS_PHRASES.get(status, f"has the status “{status}”" if status else "is on file")
    sentences = [f"Order {number} {phrase}".replace("Order Your order", "Your order")]
    carrier = _first(data, "carrier")
    tracking = _first(data, "tracking_number", "tracking")
    if carrier:
        sentences[0] += f" with {carrier}"
    if tracking:
        sentences[0] += f" (tracking number {tracking})"
    eta = _first(data, "eta", "estimated_delivery", "expected_delivery", "delivered_at")
    if eta and status != "delivered":
        sentences.append(f"It should arrive by {format_day(str(eta))}")
    elif eta:
        sentences.append(f"It arrived on {format_day(str(eta))}")
    return ". ".join(sentences) + "."


def _describe_generic(data: Mapping[str, Any]) -> str:
    parts = [
        f"{key.replace('_', ' ')}: {_plain(value)}"
        for key, value in data.items()
        if value not in (None, "", [], {})
    ]
    return "Here is what I found — " + "; ".join(parts[:8]) + "." if parts else "Nothing found."


def _describe_list(name: str, items: list[Any]) -> str:
    if not items:
        return "I didn't find anything matching that."
    if all(isinstance(item, Mapping) for item in items) and _is_slots(name, {"slots": items}):
        return _describe_slots({"slots": items})
    return "Here is what I found: " + _join([_plain(item) for item in items[:6]]) + "."


_DESCRIBERS: tuple[
    tuple[Callable[[str, Mapping[str, Any]], bool], Callable[[Mapping[str, Any]], str]], ...
] = (
    (_is_error, _describe_error),
    (_is_declined, _describe_declined),
    (_is_slots, _describe_slots),
    (_is_ticket, _describe_ticket),
    (_is_cancellation, _describe_cancellation),
    (_is_booking, _describe_booking),
    (_is_order, _describe_order),
)


def _slot_text(slot: Any) -> str:
    if not isinstance(slot, Mapping):
        return format_day(str(slot))
    start = _first(slot, "starts_at", "start", "start_time", "time")
    where = _first(slot, "location")
    text = format_day(str(start)) if start else _plain(slot)
    return f"{text} ({where})" if where else text


def _first(data: Mapping[str, Any], *keys: str) -> Any:
    return next((data[key] for key in keys if data.get(key) not in (None, "")), None)


def _plain(value: Any) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{k.replace('_', ' ')} {_plain(v)}" for k, v in value.items())
    if isinstance(value, list):
        return _join([_plain(item) for item in value])
    text = str(value)
    return format_day(text) if _parse_moment(text) else text


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _parse(result: str) -> Any:
    try:
        return json.loads(result)
    except (TypeError, ValueError):
        return result


def _parse_moment(value: str) -> date | datetime | None:
    if len(value) < 10 or not value[:4].isdigit() or value[4] != "-":
        return None
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
