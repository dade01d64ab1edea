"""The conversation engine: one customer message in, one answer out, every step a span.

A turn goes: experiment assignment → rate limit → PII redaction → the customer's message stored →
retrieval → context budgeting → cache lookup → routed LLM call (running tools until the model
answers) → quality score → the answer stored. The experiment comes first so that its variant is
stamped on every span of the turn. ``stream`` yields events as they happen; ``send`` waits.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from opentelemetry import trace

from core.conversation import history as store
from core.conversation.context_window import (
    FittedHistory,
    History,
    budget_tokens,
    fit_history,
    history_from_rows,
)
from core.conversation.generation import Generation, GenerationFailed, generate_answer
from core.conversation.parts import EngineParts
from core.conversation.prompts import build_system_prompt, citations_for
from core.conversation.summaries import summarise_messages
from core.conversation.turns import Notice, Quality, TurnEvent, TurnRequest, TurnResult, TurnStatus
from core.db.models import ConversationStatus, MessageRole
from core.errors import EngineError
from core.experiments import assign_variant
from core.pii import privacy_notice, redact_message
from core.providers.base import ChatMessage
from core.providers.catalogue import get_model
from core.quality import score_answer
from observability import context as trace_context

tracer = trace.get_tracer("support_observatory.engine")

APOLOGY = (
    "I'm sorry — I can't reach our assistant service right now, so I couldn't answer. Your "
    "message is saved and nothing is lost: try again in a minute, or choose “Talk to a human” "
    "and an agent will pick it up."
)
WITH_AGENT = "A support agent is handling this conversation; they will reply here shortly."


@dataclass(frozen=True)
class _Plan:
    """What the request and its experiment decide before the turn runs."""

    route: list[str]
    variant: str | None = None
    variant_prompt: str | None = None


@dataclass
class _Turn:
    """One turn's facts that every result carries."""

    conversation_id: str
    trace_id: str
    plan: _Plan
    started: float = field(default_factory=time.perf_counter)
    user_message_id: int = 0
    notices: list[str] = field(default_factory=list)

    def result(self, status: TurnStatus, text: str, **fields: Any) -> TurnResult:
        return TurnResult(
            conversation_id=self.conversation_id,
            status=status,
            text=text,
            user_message_id=self.user_message_id,
            trace_id=self.trace_id,
            notices=tuple(self.notices),
            variant=self.plan.variant,
            latency_ms=round((time.perf_counter() - self.started) * 1000, 1),
            **fields,
        )


class ConversationEngine:
    """Runs support turns over the parts the app was built with (see ``EngineParts``)."""

    def __init__(self, parts: EngineParts) -> None:
        self.parts = parts

    def start_conversation(self, user_id: int, *, route: Sequence[str] | None = None) -> str:
        """A new, empty conversation for the customer; returns its id."""
        return store.start_conversation(self.parts.db, user_id, route=route)

    def send(self, request: TurnRequest) -> TurnResult:
        """Run a whole turn and return its result."""
        for event in self.stream(request):
            if isinstance(event, TurnResult):
                return event
        raise EngineError("The turn ended without a result.")

    def stream(self, request: TurnRequest) -> Iterator[TurnEvent]:
        """Run a turn, yielding text as it streams, tool steps, notices and finally the result.

        Raises ``EngineError`` before anything is stored when the message is empty or too long.
        """
        text = self._check_text(request.text)
        conversation_id = request.conversation_id or self.start_conversation(
            request.user_id, route=request.route
        )
        plan = self._plan(request)
        with (
            trace_context(
                conversation_id=conversation_id,
                user_id=str(request.user_id),
                experiment=request.experiment,
                variant=plan.variant,
                scenario=request.scenario,
            ),
            tracer.start_as_current_span("turn") as span,
        ):
            trace_id = format(span.get_span_context().trace_id, "032x")
            turn = _Turn(conversation_id, trace_id, plan)
            yield from self._run(request, text, turn)

    def _check_text(self, text: str) -> str:
        text = text.strip()
        limit = self.parts.settings.engine.max_message_chars
        if not text:
            raise EngineError("Type a message first.")
        if len(text) > limit:
            raise EngineError(
                f"That message is {len(text):,} characters; the limit is {limit:,}. Shorten it "
                "or attach it as a file instead."
            )
        return text

    def _plan(self, request: TurnRequest) -> _Plan:
        route = list(request.route or self.parts.settings.router.default_route)
        if not request.experiment:
            return _Plan(route)
        assignment = assign_variant(self.parts.db, request.experiment, request.user_id)
        if assignment.model:
            route = [assignment.model, *[m for m in route if m != assignment.model]]
        return _Plan(route, assignment.variant, assignment.prompt)

    def _run(self, request: TurnRequest, text: str, turn: _Turn) -> Iterator[TurnEvent]:
        parts = self.parts
        decision = parts.limiter.acquire(request.user_id)
        redaction = redact_message(
            parts.db, text, conversation_id=turn.conversation_id, where="user_message"
        )
        if redaction.findings:
            turn.notices.append(privacy_notice(redaction.findings))
            yield Notice(turn.notices[-1])
        stored = store.add_message(
            parts.db,
            turn.conversation_id,
            MessageRole.USER,
            redaction.text,
            author_id=request.user_id,
            trace_id=turn.trace_id,
        )
        turn.user_message_id = stored.id or 0
        if redaction.findings:
            store.count_redactions(parts.db, turn.conversation_id, len(redaction.findings))
        if not decision.allowed:
            yield turn.result(TurnStatus.RATE_LIMITED, parts.limiter.friendly_message(decision))
            return
        conversation = store.get_conversation(parts.db, turn.conversation_id)
        if conversation.status is ConversationStatus.CLAIMED:
            yield turn.result(TurnStatus.HANDED_TO_AGENT, WITH_AGENT)
            return
        yield from self._answer(request, redaction.text, turn)

    def _answer(self, request: TurnRequest, question: str, turn: _Turn) -> Iterator[TurnEvent]:
        parts = self.parts
        hits = parts.kb.search(question, scopes=("global", turn.conversation_id))
        sources = parts.kb.format_sources(hits)
        customer = store.customer_name(parts.db, request.user_id)
        history = history_from_rows(store.list_messages(parts.db, turn.conversation_id))

        def system_prompt(summary: str | None) -> str:
            return build_system_prompt(
                customer_name=customer,
                now=parts.now(),
                sources=sources,
                variant_prompt=turn.plan.variant_prompt,
                summary=summary,
            )

        fitted = self._fit(system_prompt(history.summary), history, turn)
        messages = [ChatMessage(role="system", content=system_prompt(fitted.summary))]
        messages += fitted.messages
        generation = Generation()
        try:
            yield from generate_answer(
                parts,
                generation,
                messages,
                turn.plan.route,
                user_id=request.user_id,
                conversation_id=turn.conversation_id,
            )
        except GenerationFailed as failure:
            yield self._failed(turn, generation, failure)
            return
        citations = citations_for(generation.text, hits)
        score = score_answer(
            question,
            generation.text,
            [hits[c.number - 1].text for c in citations],
            tool_results=[step.result for step in generation.tool_steps],
            escalated=generation.escalated,
        )
        quality = Quality(round(score.score, 3), tuple(score.reasons))
        if quality.score < parts.settings.engine.low_quality_threshold:
            store.flag_conversation(parts.db, turn.conversation_id, "low quality score")
        trace.get_current_span().set_attribute("observatory.quality.score", quality.score)
        answer = turn.result(
            TurnStatus.ANSWERED,
            generation.text,
            model=generation.model,
            provider=generation.provider,
            simulated=generation.simulated,
            input_tokens=generation.input_tokens,
            output_tokens=generation.output_tokens,
            cost_usd=generation.cost_usd,
            time_to_first_token_ms=generation.first_token_ms(turn.started),
            citations=citations,
            tool_steps=tuple(generation.tool_steps),
            quality=quality,
            cached=generation.cached,
            attempts=generation.attempts,
            fallbacks=tuple(generation.fallbacks),
        )
        message_id = store.save_answer(parts.db, answer)
        yield _with_message_id(answer, message_id)

    def _fit(self, system: str, history: History, turn: _Turn) -> FittedHistory:
        parts, route = self.parts, turn.plan.route
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
        if fitted.summarised_messages:
            store.add_message(
                parts.db,
                turn.conversation_id,
                MessageRole.SYSTEM,
                fitted.summary or "",
                summary_through_id=history.message_ids[fitted.summarised_messages - 1],
                trace_id=turn.trace_id,
            )
            span = trace.get_current_span()
            span.set_attribute("observatory.context.tokens_saved", fitted.tokens_saved)
            span.set_attribute(
                "observatory.context.summarised_messages", fitted.summarised_messages
            )
        return fitted

    def _failed(self, turn: _Turn, generation: Generation, failure: GenerationFailed) -> TurnResult:
        parts = self.parts
        stored = store.add_message(
            parts.db,
            turn.conversation_id,
            MessageRole.ASSISTANT,
            APOLOGY,
            error=str(failure),
            trace_id=turn.trace_id,
        )
        store.flag_conversation(parts.db, turn.conversation_id, "provider outage")
        span = trace.get_current_span()
        span.set_status(trace.StatusCode.ERROR, str(failure))
        return turn.result(
            TurnStatus.FAILED,
            APOLOGY,
            message_id=stored.id,
            attempts=generation.attempts,
            fallbacks=tuple(generation.fallbacks),
            error=str(failure),
        )


def _with_message_id(result: TurnResult, message_id: int) -> TurnResult:
    return replace(result, message_id=message_id)
