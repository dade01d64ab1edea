"""How a turn is traced: one ``turn`` span per turn, passed explicitly, never left current.

A streamed turn is a generator, and the caller runs its own code between the events it yields.
So the turn's context is attached only while the engine computes the next event (``drive``) and
detached before each event is handed over: the caller's spans never become children of
``turn``, and every step the engine runs (rate limit, retrieval, model calls…) always does.

Attribute names of the engine's own steps live here; the shared ones come from
``observability.attributes``.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Final, TypeVar

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context

from observability import context as trace_ids

T = TypeVar("T")

TURN_STATUS: Final = "observatory.turn.status"
MESSAGE_ID: Final = "observatory.message.id"
RATE_LIMIT_ALLOWED: Final = "observatory.rate_limit.allowed"
RATE_LIMIT_RETRY_AFTER_S: Final = "observatory.rate_limit.retry_after_s"
RATE_LIMIT_REMAINING: Final = "observatory.rate_limit.remaining"
CONTEXT_BUDGET_TOKENS: Final = "observatory.context.budget_tokens"
CONTEXT_TOKENS: Final = "observatory.context.tokens"
CONTEXT_TOKENS_SAVED: Final = "observatory.context.tokens_saved"
CONTEXT_SUMMARISED_MESSAGES: Final = "observatory.context.summarised_messages"
QUALITY_SCORE: Final = "observatory.quality.score"
QUALITY_REASONS: Final = "observatory.quality.reasons"
QUALITY_JUDGED: Final = "observatory.quality.judged"
TICKET_ID: Final = "observatory.ticket.id"

tracer = trace.get_tracer("support_observatory.engine")


def with_ids(
    parent: Context,
    *,
    conversation_id: str | None = None,
    user_id: str | None = None,
    experiment: str | None = None,
    variant: str | None = None,
    scenario: str | None = None,
) -> Context:
    """``parent`` plus the ids every span started from it is stamped with."""
    token = otel_context.attach(parent)
    try:
        with trace_ids(
            conversation_id=conversation_id,
            user_id=user_id,
            experiment=experiment,
            variant=variant,
            scenario=scenario,
        ):
            return otel_context.get_current()
    finally:
        otel_context.detach(token)


def drive(context: Context, events: Generator[T, None, None]) -> Iterator[T]:
    """Yield ``events`` with ``context`` attached only while the next one is computed.

    Closing this iterator closes ``events`` (with ``context`` attached, so whatever ``events``
    does on its way out is traced in the turn too).
    """
    try:
        while True:
            token = otel_context.attach(context)
            try:
                event = next(events)
            except StopIteration:
                return
            finally:
                otel_context.detach(token)
            yield event
    finally:
        token = otel_context.attach(context)
        try:
            events.close()
        finally:
            otel_context.detach(token)
