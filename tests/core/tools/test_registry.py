"""Running tools: one ``execute_tool`` span each, errors returned to the model, never raised."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from core.db import create_db_engine
from core.db.models import OrderStatus
from core.providers.base import ToolCall
from core.tools import Tool, ToolContext, ToolEffect, ToolRegistry, create_tool_registry
from tests.core.tools.conftest import NOW, Shop, only_span


def test_every_tool_is_offered_with_an_object_schema() -> None:
    specs = create_tool_registry().specs()

    assert {spec.name for spec in specs} == {
        "get_order_status",
        "cancel_order",
        "check_availability",
        "book_appointment",
        "reschedule_appointment",
        "create_ticket",
    }
    assert all(spec.parameters["type"] == "object" and spec.description for spec in specs)


def test_only_answers_from_pure_tools_are_cacheable() -> None:
    def opening_hours(context: ToolContext, arguments: Mapping[str, Any]) -> dict[str, str]:
        return {"hours": "Mon-Sat 9-16"}

    hours = Tool("opening_hours", "Store hours.", {"type": "object"}, opening_hours)
    pure = Tool(
        "opening_hours_pure", "Store hours.", {"type": "object"}, opening_hours,
        effect=ToolEffect.PURE,
    )  # fmt: skip
    shop = create_tool_registry()
    registry = ToolRegistry([*(shop.get(name) for name in shop.names), hours, pure])  # type: ignore[misc]

    assert registry.is_cacheable([])
    assert registry.is_cacheable(["opening_hours_pure"])
    assert not registry.is_cacheable(["get_order_status"]), "order status changes"
    assert not registry.is_cacheable(["check_availability"]), "slots get booked"
    assert not registry.is_cacheable(["opening_hours"]), "undeclared tools are not cacheable"
    assert not registry.is_cacheable(["opening_hours_pure", "cancel_order"])
    assert not registry.is_cacheable([ToolCall("c1", "create_ticket", {})])
    assert not registry.is_cacheable(["made_up_tool"])


def test_tool_run_is_an_execute_tool_span(shop: Shop, spans: InMemorySpanExporter) -> None:
    order = shop.order(OrderStatus.DELIVERED)

    shop.run(order.user_id, "get_order_status", order_number=order.number)

    span = only_span(spans)
    assert span.name == "execute_tool get_order_status"
    assert span.kind is SpanKind.INTERNAL
    assert span.instrumentation_scope is not None
    assert span.instrumentation_scope.name == "support_observatory.tools"
    assert dict(span.attributes or {}) == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "get_order_status",
        "gen_ai.tool.call.id": "call_get_order_status",
        "gen_ai.tool.type": "function",
    }
    assert span.status.status_code is StatusCode.UNSET


def test_refused_call_marks_its_span_as_an_error(shop: Shop, spans: InMemorySpanExporter) -> None:
    order = shop.order(OrderStatus.DELIVERED)

    shop.run(order.user_id, "cancel_order", order_number=order.number)

    span = only_span(spans)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes is not None and span.attributes["error.type"] == "refused"


def test_unknown_tool_names_the_real_ones(shop: Shop, spans: InMemorySpanExporter) -> None:
    result = shop.run(1, "delete_all_orders")

    assert not result.ok
    assert "There is no tool called 'delete_all_orders'" in json.loads(result.content)["error"]
    assert only_span(spans).attributes["error.type"] == "unknown_tool"  # type: ignore[index]


def test_crashing_tool_gives_the_model_an_error_not_an_exception(
    shop: Shop, spans: InMemorySpanExporter
) -> None:
    def broken(context: ToolContext, arguments: Mapping[str, Any]) -> Mapping[str, Any]:
        raise KeyError("oops")

    registry = ToolRegistry([Tool("broken", "Always fails.", {"type": "object"}, broken)])

    result = registry.execute(ToolCall("c9", "broken", {}), shop.context(1))

    assert not result.ok
    assert json.loads(result.content) == {"error": "broken failed unexpectedly; do not retry it."}
    assert only_span(spans).attributes["error.type"] == "KeyError"  # type: ignore[index]


def test_database_outage_is_reported_to_the_model() -> None:
    unreachable = create_db_engine("postgresql://nobody@127.0.0.1:1/shop")
    context = ToolContext(unreachable, 1, None, NOW)
    call = ToolCall("c1", "get_order_status", {"order_number": "ORD-10001"})

    result = create_tool_registry().execute(call, context)

    assert not result.ok
    assert "could not be reached" in json.loads(result.content)["error"]
