"""The short steps of a turn, each one span under ``turn``: experiment assignment, rate limit,
the customer's message stored, context budgeting, and the reply stored.

Each runs in a plain function (never across a ``yield``), so ``start_as_current_span`` is safe
here: the span is current only while the step runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

from opentelemetry.context import Context

from core.conversation import history as store
from core.conversation.context_window import FittedHistory, History, budget_tokens, fit_history
from core.conversation.parts import EngineParts
from core.conversation.summaries import summarise_messages
from core.conversation.tracing import (
    CONTEXT_BUDGET_TOKENS,
    CONTEXT_SUMMARISED_MESSAGES,
    CONTEXT_TOKENS,
    CONTEXT_TOKENS_SAVED,
    MESSAGE_ID,
    RATE_LIMIT_ALLOWED,
    RATE_LIMIT_REMAINING,
    RATE_LIMIT_RETRY_AFTER_S,
    tracer,
)
from core.conversation.turns import TurnRequest, TurnResult
from core.db.held import retry_storage
from core.db.models import Message, MessageRole
from core.experiments import ExperimentError, assign_variant
from core.providers.catalogue import get_model
from core.ratelimit import RateDecision
from observability import attributes as attr
from observability.redaction import Redaction

T = TypeVar("T")


@dataclass(frozen=True)
class TurnPlan:
    """What the request and its experiment decide before the turn runs."""

    route: list[str]
    experiment: str | None = None
    variant: str | None = None
    variant_prompt: str | None = None


def plan_turn(
    parts: EngineParts, request: TurnRequest, conversation_id: str, context: Context
) -> TurnPlan:
    """The route, and the customer's variant when the request names a running experiment
    (stored on the conversation). An experiment that has ended, or does not exist, leaves the
    turn on its own route; the ``assign_experiment`` span says why."""
    route = list(request.route or parts.settings.router.default_route)
    if not request.experiment:
        return TurnPlan(route)
    with tracer.start_as_current_span(
        "assign_experiment",
        context=context,
        attributes={attr.EXPERIMENT_NAME: request.experiment},
    ) as span:
        try:
            assignment = assign_variant(parts.db, request.experiment, request.user_id)
        except ExperimentError as exc:
            span.add_event("experiment unavailable", {"reason": str(exc)})
            return TurnPlan(route)
        span.set_attribute(attr.EXPERIMENT_VARIANT, assignment.variant)
        store.update_conversation(
            parts.db,
            conversation_id,
            experiment=assignment.experiment,
            variant=assignment.variant,
        )
    if assignment.model:
        route = [assignment.model, *[m for m in route if m != assignment.model]]
    return TurnPlan(route, assignment.experiment, assignment.variant, assignment.prompt)


def check_rate_limit(parts: EngineParts, user_id: int) -> RateDecision:
    """Take one message from the customer's allowance (a refusal is recorded for admins)."""
    with tracer.start_as_current_span("rate_limit") as span:
        decision = parts.limiter.acquire(user_id)
        span.set_attributes(
            {
                RATE_LIMIT_ALLOWED: decision.allowed,
                RATE_LIMIT_REMAINING: decision.remaining,
                RATE_LIMIT_RETRY_AFTER_S: round(decision.retry_after_s, 3),
            }
        )
    return decision


def save_question(
    parts: EngineParts,
    conversation_id: str,
    redaction: Redaction,
    *,
    user_id: int,
    trace_id: str,
    request_key: str | None = None,
) -> int:
    """Store the customer's message (redacted) and count its redactions; returns its id.

    The write is tried again while the database's connection is lost (``retry_storage``); a
    message with a ``request_key`` already stored by an earlier try is not stored twice."""

    def write() -> Message:
        if request_key is not None:
            sent = store.find_sent_message(parts.db, conversation_id, request_key)
            if sent is not None:
                return sent
        return store.add_message(
            parts.db,
            conversation_id,
            MessageRole.USER,
            redaction.text,
            author_id=user_id,
            trace_id=trace_id,
            request_key=request_key,
        )

    with tracer.start_as_current_span("save_message") as span:
        stored = with_retries(parts, write)
        if redaction.findings:
            store.count_redactions(parts.db, conversation_id, len(redaction.findings))
        span.set_attribute(MESSAGE_ID, stored.id or 0)
    return stored.id or 0


def budget_context(
    parts: EngineParts,
    system: str,
    history: History,
    route: Sequence[str],
    *,
    conversation_id: str,
    trace_id: str,
) -> FittedHistory:
    """The history that fits the first model's budget, summarising (and storing) the oldest
    turns when it does not; the span records the budget, the tokens sent and the tokens saved."""
    with tracer.start_as_current_span("context_budget") as span:
        model = get_model(route[0])
        budget = budget_tokens(
            model.context_window,
            model.max_output_tokens,
            parts.settings.engine.context_budget_share,
        )
        fitted = fit_history(
            system,
            history,
            model=route[0],
            budget=budget,
            summarise=lambda older: summarise_messages(parts.router, older, route),
        )
        span.set_attributes(
            {
                CONTEXT_BUDGET_TOKENS: budget,
                CONTEXT_TOKENS: fitted.tokens_after,
                CONTEXT_TOKENS_SAVED: fitted.tokens_saved,
                CONTEXT_SUMMARISED_MESSAGES: fitted.summarised_messages,
            }
        )
        if fitted.summarised_messages:
            store.add_message(
                parts.db,
                conversation_id,
                MessageRole.SYSTEM,
                fitted.summary or "",
                summary_through_id=history.message_ids[fitted.summarised_messages - 1],
                trace_id=trace_id,
            )
    return fitted


def save_reply(parts: EngineParts, result: TurnResult) -> TurnResult:
    """Store the assistant's side of the turn; returns the result with its message id."""
    with tracer.start_as_current_span("save_turn") as span:
        message_id = with_retries(parts, lambda: _save_answer_once(parts, result))
        span.set_attribute(MESSAGE_ID, message_id)
    return replace(result, message_id=message_id)


def with_retries(parts: EngineParts, write: Callable[[], T]) -> T:
    """``write()`` tried again, with backoff, while the app database's connection is lost."""
    engine = parts.settings.engine
    return retry_storage(write, attempts=engine.storage_attempts, base_s=engine.storage_retry_s)


def _save_answer_once(parts: EngineParts, result: TurnResult) -> int:
    """The turn's answer stored, unless a try whose connection dropped already stored it."""
    if result.trace_id is not None:
        stored = store.find_answer(parts.db, result.conversation_id, result.trace_id)
        if stored is not None:
            return stored.id or 0
    return store.save_answer(parts.db, result)
