"""Tracing, pricing and instrumentation for LLM calls, on OpenTelemetry.

obs = Observatory(service_name="support", environment="dev", store_url="sqlite:///traces.db")
client = instrument_openai(OpenAI(max_retries=0))
with context(conversation_id="c-1", user_id="u-7"):
    client.chat.completions.create(model="gpt-4o-mini", messages=[...])
obs.shutdown()
"""

from observability.annotations import annotate_trace
from observability.context import context, current_ids
from observability.decorators import observe, span
from observability.instrumentation import (
    ContentPolicy,
    Redactor,
    instrument_anthropic,
    instrument_openai,
)
from observability.pricing import PriceStatus, SpanPrice, price_span_attributes
from observability.setup import Observatory, TelemetrySetupError

__all__ = [
    "ContentPolicy",
    "Observatory",
    "PriceStatus",
    "Redactor",
    "SpanPrice",
    "TelemetrySetupError",
    "annotate_trace",
    "context",
    "current_ids",
    "instrument_anthropic",
    "instrument_openai",
    "observe",
    "price_span_attributes",
    "span",
]
