"""Order tools: a customer sees and cancels only their own orders, and only while allowed."""

from __future__ import annotations

import json

from core.db.models import OrderStatus
from tests.core.tools.conftest import Shop


def test_order_status_reads_the_customers_own_order(shop: Shop) -> None:
    order = shop.order(OrderStatus.IN_TRANSIT)

    result = shop.run(order.user_id, "get_order_status", order_number=order.number)

    assert result.ok
    answer = json.loads(result.content)
    assert answer["order_number"] == order.number
    assert answer["status"] == "in_transit"
    assert answer["carrier"] == order.carrier
    assert answer["tracking_number"] == order.tracking_number
    assert order.eta is not None and answer["eta"] == order.eta.isoformat()
    assert answer["can_cancel"] is False


def test_order_number_is_understood_without_its_prefix(shop: Shop) -> None:
    order = shop.order(OrderStatus.DELIVERED)
    digits = order.number.removeprefix("ORD-")

    result = shop.run(order.user_id, "get_order_status", order_number=f"ord {digits}")

    assert result.ok and json.loads(result.content)["order_number"] == order.number


def test_someone_elses_order_is_not_on_your_account(shop: Shop) -> None:
    order = shop.order(OrderStatus.DELIVERED)
    stranger = next(c for c in shop.customers() if c.id != order.user_id)

    result = shop.run(stranger.id, "get_order_status", order_number=order.number)

    assert not result.ok
    assert json.loads(result.content) == {
        "error": f"There is no order with the number {order.number} on your account."
    }


def test_missing_or_mistyped_order_number_is_an_error_for_the_model(shop: Shop) -> None:
    customer = shop.customers()[0]

    missing = shop.run(customer.id, "get_order_status")
    wrong_type = shop.run(customer.id, "get_order_status", order_number=10042)
    nonsense = shop.run(customer.id, "get_order_status", order_number="my blue jacket")

    assert "'order_number' is a required property" in json.loads(missing.content)["error"]
    assert "is not of type 'string'" in json.loads(wrong_type.content)["error"]
    assert "is not an order number" in json.loads(nonsense.content)["error"]
    assert not (missing.ok or wrong_type.ok or nonsense.ok)


def test_processing_order_is_cancelled_on_both_databases(any_shop: Shop) -> None:
    order = any_shop.order(OrderStatus.PROCESSING)

    result = any_shop.run(order.user_id, "cancel_order", order_number=order.number)

    assert result.ok
    assert json.loads(result.content)["cancelled"] is True
    assert any_shop.order_by_number(order.number).status is OrderStatus.CANCELLED


def test_shipped_order_is_not_cancelled(any_shop: Shop) -> None:
    order = any_shop.order(OrderStatus.SHIPPED)

    result = any_shop.run(order.user_id, "cancel_order", order_number=order.number)

    assert not result.ok
    assert "has already shipped" in json.loads(result.content)["error"]
    assert any_shop.order_by_number(order.number).status is OrderStatus.SHIPPED


def test_cancel_is_refused_once_packed_delivered_or_cancelled(shop: Shop) -> None:
    refusals = {}
    for status in (OrderStatus.PACKED, OrderStatus.DELIVERED, OrderStatus.CANCELLED):
        order = shop.order(status)
        result = shop.run(order.user_id, "cancel_order", order_number=order.number)
        refusals[status] = json.loads(result.content)["error"]
        assert shop.order_by_number(order.number).status is status

    assert "packed" in refusals[OrderStatus.PACKED]
    assert "delivered" in refusals[OrderStatus.DELIVERED]
    assert "already cancelled" in refusals[OrderStatus.CANCELLED]


def test_cancelling_someone_elses_order_changes_nothing(shop: Shop) -> None:
    order = shop.order(OrderStatus.PROCESSING)
    stranger = next(c for c in shop.customers() if c.id != order.user_id)

    result = shop.run(stranger.id, "cancel_order", order_number=order.number)

    assert not result.ok and "on your account" in result.content
    assert shop.order_by_number(order.number).status is OrderStatus.PROCESSING
