"""The cost stored on a message row is the cost on the call's span, cache writes included."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from core.conversation.generation import price_response
from core.providers.base import ChatResponse
from observability.instrumentation.anthropic import message_response
from observability.pricing import price_span_attributes

USAGE = SimpleNamespace(
    input_tokens=100,
    output_tokens=40,
    cache_read_input_tokens=2000,
    cache_creation_input_tokens=500,
    cache_creation=None,
)
MESSAGE = SimpleNamespace(
    id="msg_1", model="claude-haiku-4-5-20251001", usage=USAGE, content=[], stop_reason="end_turn"
)
CALL = SimpleNamespace(policy=SimpleNamespace(capture=False))


def test_row_cost_equals_span_cost_with_cache_reads_and_writes() -> None:
    span_attributes = {
        "gen_ai.provider.name": "anthropic",
        **message_response(MESSAGE, CALL),  # type: ignore[arg-type]
    }
    response = ChatResponse(
        text="Returns are free within 30 days.",
        tool_calls=[],
        model="claude-haiku-4-5-20251001",
        provider="anthropic",
        input_tokens=2600,
        output_tokens=40,
        cached_input_tokens=2000,
        finish_reason="end_turn",
        simulated=True,
        cache_creation_input_tokens=500,
    )

    span_cost = price_span_attributes(span_attributes).cost_usd

    # 100 × $1 + 2000 × $0.10 + 500 × $1.25 + 40 × $5 per 1M
    assert span_cost == Decimal("0.001125")
    assert price_response(response) == span_cost
