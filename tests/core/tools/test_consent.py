"""Tools that change what the customer owns run only with their consent (issue 17, seen 1)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from core.db.models import OrderStatus
from core.providers.base import ToolCall
from core.tools import Proposal, Tool, ToolContext, ToolEffect, create_tool_registry
from tests.core.tools.conftest import Shop, only_span


def test_changing_tools_need_consent_and_lookups_do_not() -> None:
    registry = create_tool_registry()

    asks_first = {name for name in registry.names if registry.needs_consent(name)}

    assert asks_first == {"cancel_order", "book_appointment", "reschedule_appointment"}


def test_a_side_effect_tool_must_say_how_it_asks_first() -> None:
    def change(context: ToolContext, arguments: Mapping[str, Any]) -> Mapping[str, Any]:
        return {}

    with pytest.raises(ValueError, match="propose"):
        Tool("wipe", "Changes things.", {"type": "object"}, change, ToolEffect.SIDE_EFFECTS)


def test_a_cancellation_without_consent_changes_nothing(
    shop: Shop, spans: InMemorySpanExporter
) -> None:
    order = shop.order(OrderStatus.PROCESSING)
    call = ToolCall("c1", "cancel_order", {"order_number": order.number})

    result = shop.registry.execute(call, shop.context(order.user_id))

    assert not result.ok and "only after they confirm" in json.loads(result.content)["error"]
    assert shop.order_by_number(order.number).status is OrderStatus.PROCESSING
    assert only_span(spans).attributes["error.type"] == "no_consent"  # type: ignore[index]


def test_the_cancel_question_names_the_order_amount_and_refund(shop: Shop) -> None:
    order = shop.order(OrderStatus.PROCESSING)
    call = ToolCall("c1", "cancel_order", {"order_number": order.number.removeprefix("ORD-")})

    proposal = shop.registry.propose(call, shop.context(order.user_id))

    assert isinstance(proposal, Proposal)
    assert proposal.question == (
        f"Cancel {order.number} — ${order.amount:,.2f}, refunded to your original payment method?"
    )
    assert proposal.arguments == {"order_number": order.number}


def test_a_shipped_order_is_refused_before_anyone_is_asked(shop: Shop) -> None:
    order = shop.order(OrderStatus.SHIPPED)
    call = ToolCall("c1", "cancel_order", {"order_number": order.number})

    outcome = shop.registry.propose(call, shop.context(order.user_id))

    assert not isinstance(outcome, Proposal) and not outcome.ok
    assert "already shipped" in json.loads(outcome.content)["error"]
