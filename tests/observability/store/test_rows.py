"""A finished span becomes one ``spans`` row: promoted columns, all attributes as JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

from observability.store.rows import SpanRow, span_to_row
from observability.store.schema import SPAN_COLUMNS

START_NS = 1_764_590_400_123_456_789
"""2025-12-01 12:00:00.123456789 UTC."""


def _span(attributes: dict[str, object], **overrides: object) -> ReadableSpan:
    fields: dict[str, object] = {
        "name": "chat gpt-4o",
        "context": SpanContext(0xABC, 0xDEF, False, TraceFlags(1)),
        "parent": SpanContext(0xABC, 0x123, False, TraceFlags(1)),
        "resource": Resource.create({"service.name": "support"}),
        "attributes": attributes,
        "kind": SpanKind.CLIENT,
        "status": Status(StatusCode.OK),
        "start_time": START_NS,
        "end_time": START_NS + 250_000_000,
    }
    fields.update(overrides)
    return ReadableSpan(**fields)  # type: ignore[arg-type]


def test_a_row_has_the_columns_of_the_spans_table_in_order() -> None:
    assert SpanRow._fields == SPAN_COLUMNS


def test_a_chat_span_fills_the_promoted_columns() -> None:
    row = span_to_row(
        _span(
            {
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.response.model": "gpt-4o-2024-08-06",
                "gen_ai.usage.input_tokens": 1200,
                "gen_ai.usage.output_tokens": 80,
                "gen_ai.usage.cache_read.input_tokens": 1024,
                "gen_ai.response.time_to_first_chunk": 0.125,
                "observatory.conversation.id": "conv-1",
                "observatory.user.id": "user-7",
                "observatory.experiment.name": "prompt-v2",
                "observatory.experiment.variant": "treatment",
                "observatory.scenario": "returns",
                "observatory.cache.hit": False,
            }
        )
    )

    assert (row.trace_id, row.span_id, row.parent_span_id) == (
        f"{0xABC:032x}", f"{0xDEF:016x}", f"{0x123:016x}"
    )  # fmt: skip
    assert row.start_time == datetime(2025, 12, 1, 12, 0, 0, 123456, tzinfo=UTC)
    assert row.duration_ms == 250.0
    assert (row.kind, row.status, row.service) == ("client", "ok", "support")
    assert (row.operation, row.provider) == ("chat", "openai")
    assert (row.request_model, row.response_model) == ("gpt-4o", "gpt-4o-2024-08-06")
    assert (row.input_tokens, row.output_tokens, row.cache_read_tokens) == (1200, 80, 1024)
    assert row.ttfc_ms == 125.0
    assert (row.conversation_id, row.user_id) == ("conv-1", "user-7")
    assert (row.experiment, row.variant, row.scenario) == ("prompt-v2", "treatment", "returns")
    assert row.cache_hit is False and row.simulated is None
    assert row.cost_status == "priced" and row.cost_usd is not None and row.cost_usd > 0
    assert json.loads(row.attributes)["gen_ai.usage.input_tokens"] == 1200


def test_values_of_other_types_are_converted_to_the_column_type() -> None:
    row = span_to_row(
        _span(
            {
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "custom-model",
                "gen_ai.usage.input_tokens": 12.0,
                "gen_ai.usage.output_tokens": True,
                "observatory.user.id": 42,
                "observatory.attempt": 2.0,
            }
        )
    )

    assert (row.input_tokens, row.output_tokens) == (12, None)
    assert row.user_id == "42" and row.attempt == 2
    assert (row.cost_usd, row.cost_status) == (None, "unpriced")


def test_a_failed_span_keeps_its_status_message_and_events() -> None:
    row = span_to_row(
        _span(
            {"error.type": "429", "observatory.attempt": 1, "big": 2**70},
            status=Status(StatusCode.ERROR, "rate limited"),
            events=[Event("retry", {"after_s": 1.5}, START_NS + 1_000)],
            parent=None,
            end_time=None,
        )
    )

    assert (row.status, row.status_message, row.error_type) == ("error", "rate limited", "429")
    assert row.parent_span_id is None and row.end_time is None and row.duration_ms is None
    assert row.attempt == 1 and row.cost_status is None
    assert json.loads(row.attributes)["big"] == 2**70
    [event] = json.loads(row.events or "[]")
    assert event["name"] == "retry" and event["attributes"] == {"after_s": 1.5}
    assert event["time"] == "2025-12-01T12:00:00.123457+00:00"


def test_the_environment_is_the_spans_own_else_its_resources() -> None:
    resource = Resource.create({"service.name": "support", "deployment.environment.name": "prod"})
    own = _span({"deployment.environment.name": "demo"}, resource=resource)
    inherited = _span({}, resource=resource)

    assert span_to_row(own).environment == "demo"
    assert span_to_row(inherited).environment == "prod"
    assert span_to_row(_span({})).environment is None
