"""Reading values out of customers' words."""

from __future__ import annotations

from datetime import date, time

import pytest

from core.simulator.extract import (
    find_booking_id,
    find_date,
    find_name,
    find_order_numbers,
    find_time,
)
from core.simulator.tool_answers import describe_tool_result

THURSDAY = date(2026, 11, 19)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("next Tuesday please", date(2026, 11, 24)),
        ("on Thursday", date(2026, 11, 26)),
        ("tomorrow morning", date(2026, 11, 20)),
        ("the day after tomorrow", date(2026, 11, 21)),
        ("Dec 3", date(2026, 12, 3)),
        ("3rd of December", date(2026, 12, 3)),
        ("March 2", date(2027, 3, 2)),
        ("2026-12-24", date(2026, 12, 24)),
        ("12/5", date(2026, 12, 5)),
        ("in 3 days", date(2026, 11, 22)),
        ("sometime next week", date(2026, 11, 23)),
        ("whenever suits", None),
    ],
)
def test_dates(text, expected):
    assert find_date(text, THURSDAY) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("at 3pm", time(15)),
        ("3:30 p.m.", time(15, 30)),
        ("at 15:45", time(15, 45)),
        ("at 10", time(10)),
        ("at 2", time(14)),
        ("around noon", time(12)),
        ("in the afternoon", time(14)),
        ("ORD-10001", None),
    ],
)
def test_times(text, expected):
    assert find_time(text) == expected


def test_order_numbers_are_canonical_and_unique():
    assert find_order_numbers("ord 10023, ORD-10023 and ORD-10040") == ["ORD-10023", "ORD-10040"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hi, my name is Sarah Connor.", "Sarah Connor"),
        ("This is Priya", "Priya"),
        ("Thanks, Tom", "Tom"),
        ("Can you book it for Tuesday?", None),
        ("I'm looking for my order", None),
    ],
)
def test_names(text, expected):
    assert find_name(text) == expected


def test_booking_reference():
    assert find_booking_id("please move booking #42 to Friday") == "42"
    assert find_booking_id("where is my order") is None


def test_delivered_order_reads_naturally():
    text = describe_tool_result(
        "get_order_status",
        '{"order_number": "ORD-10001", "status": "delivered", "carrier": "FedEx", '
        '"eta": "2026-11-02"}',
    )
    assert text == "Order ORD-10001 was delivered with FedEx. It arrived on Monday 2 November."


def test_failed_cancellation_gives_the_reason():
    text = describe_tool_result(
        "cancel_order",
        '{"cancelled": false, "order_number": "ORD-10002", "reason": "it has already shipped"}',
    )
    assert text == "I couldn't cancel ORD-10002: it has already shipped."


def test_new_ticket_and_error_results():
    assert "ticket #981" in describe_tool_result("create_ticket", '{"ticket_id": 981}')
    assert describe_tool_result("anything", '{"error": "Order not found"}') == (
        "I wasn't able to complete that: Order not found."
    )
