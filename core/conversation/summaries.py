"""Summaries made by a model: the oldest turns of a long conversation, or a whole one for agents."""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry import trace

from core.providers.base import ChatMessage, ChatRequest
from core.router import Router

tracer = trace.get_tracer("support_observatory.engine")

SUMMARY_INSTRUCTIONS = (
    "Summarise this customer-support conversation for the assistant who continues it. Keep "
    "order numbers, dates, amounts, what was promised and what is still open. At most 120 words."
)


def transcript(messages: Sequence[ChatMessage]) -> str:
    """The messages as ``Customer:`` / ``Assistant:`` lines, the form summaries are asked for."""
    names = {"user": "Customer", "assistant": "Assistant", "tool": "Tool", "system": "Note"}
    return "\n".join(f"{names[m.role]}: {m.content}" for m in messages if m.content)


def summarise_messages(
    router: Router, messages: Sequence[ChatMessage], route: Sequence[str]
) -> str:
    """A short summary of ``messages``, made with a traced call through ``router``."""
    with tracer.start_as_current_span("summarise conversation") as span:
        span.set_attribute("observatory.summary.messages", len(messages))
        request = ChatRequest(
            model=route[0],
            messages=[
                ChatMessage(role="system", content=SUMMARY_INSTRUCTIONS),
                ChatMessage(role="user", content=transcript(messages)),
            ],
            temperature=0.0,
            max_tokens=300,
        )
        return router.chat(request, route).response.text.strip()
