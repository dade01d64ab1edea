"""The conversation engine: one customer message in, one answer out, every step a span.

A turn goes: experiment assignment → PII redaction → the customer's message stored → rate limit →
retrieval → context budgeting → cache lookup → routed LLM call (running tools until the model
answers) → quality score → the answer stored (→ a hand-off summary on the ticket when the turn
escalated). Each step is a span under the turn's ``turn`` span, all in one trace; the experiment
comes first so that its variant is stamped on every span of the turn.

``stream`` yields events as they happen; ``send`` waits. Once the customer's message is stored,
every way a turn can fail ends in the same honest apology, stored with the error and whatever
the turn had done (tool steps, tokens, cost); a stream closed before its result stores the part
of the answer already given.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from core import clock
from core.actors import SYSTEM, Actor
from core.conversation import history as store
from core.conversation.answer_cache import answer_key, look_up, remember, replay
from core.conversation.consent import expire_pending, pending_action
from core.conversation.context_window import history_from_rows
from core.conversation.decisions import decide_action
from core.conversation.escalation import escalated_ticket, summarise_escalation
from core.conversation.generation import Generation, GenerationFailed, generate_answer
from core.conversation.parts import EngineParts
from core.conversation.prompts import build_system_prompt, citations_for
from core.conversation.questions import search_each_question
from core.conversation.scoring import keep_score, score_turn
from core.conversation.steps import (
    TurnPlan,
    budget_context,
    check_rate_limit,
    plan_turn,
    save_question,
    save_reply,
    with_retries,
)
from core.conversation.tracing import (
    QUALITY_SCORE,
    TURN_STATUS,
    drive,
    tracer,
    with_ids,
)
from core.conversation.turns import (
    Notice,
    PendingAction,
    TextDelta,
    TurnEvent,
    TurnRequest,
    TurnResult,
    TurnStatus,
)
from core.db.held import is_connection_lost
from core.db.models import ConversationStatus
from core.errors import (
    DatabaseAway,
    EngineError,
    ObservatoryError,
    ProviderError,
    StorageError,
)
from core.kb.retrieval import SearchHit
from core.ownership import check_speaks_for, check_turn
from core.pii import privacy_notice, redact_message
from core.plain_text import storable
from core.providers.base import ChatMessage
from observability import attributes as attr

log = logging.getLogger(__name__)

APOLOGY = (
    "I'm sorry — I can't reach our assistant service right now, so I couldn't answer. Your "
    "message is saved and nothing is lost: try again in a minute, or choose “Talk to a human” "
    "and an agent will pick it up."
)
WITH_AGENT = "A support agent is handling this conversation; they will reply here shortly."
HELD = (
    "Our database is unreachable for a moment: your message is kept and will be sent as soon "
    "as it is back."
)
INTERRUPTED = "The answer was interrupted before it finished; send your message again."
CLOSED_EARLY = "The stream was closed before the turn finished."


@dataclass
class _Turn:
    """One turn's facts that every result carries, and its span."""

    conversation_id: str
    span: Span
    plan: TurnPlan
    started: float = field(default_factory=clock.perf_counter)
    user_message_id: int = 0
    notices: list[str] = field(default_factory=list)

    @property
    def trace_id(self) -> str:
        return format(self.span.get_span_context().trace_id, "032x")

    def result(self, status: TurnStatus, text: str, **fields: Any) -> TurnResult:
        return TurnResult(
            conversation_id=self.conversation_id,
            status=status,
            text=text,
            user_message_id=self.user_message_id,
            trace_id=self.trace_id,
            notices=tuple(self.notices),
            variant=self.plan.variant,
            latency_ms=round((clock.perf_counter() - self.started) * 1000, 1),
            **fields,
        )


class ConversationEngine:
    """Runs support turns over the parts the app was built with (see ``EngineParts``)."""

    def __init__(self, parts: EngineParts) -> None:
        self.parts = parts

    def start_conversation(
        self, user_id: int, *, route: Sequence[str] | None = None, actor: Actor | None = None
    ) -> str:
        """A new, empty conversation for the customer; returns its id. ``actor``: who starts
        it (``None``: the customer themselves)."""
        acting = actor if actor is not None else Actor.customer(user_id)
        return store.start_conversation(self.parts.db, user_id, route=route, actor=acting)

    def authorize(self, request: TurnRequest) -> None:
        """Raise ``NotAllowed`` unless ``request.acting`` may send this message: it speaks for
        ``request.user_id`` and the conversation is that customer's (``DatabaseAway`` when the
        conversation cannot be read now)."""
        check_speaks_for(request.acting, request.user_id)
        if request.conversation_id:
            with _held_while_away():
                conversation = store.get_conversation(self.parts.db, request.conversation_id)
            check_turn(request.acting, request.user_id, conversation)

    def pending_action(
        self, conversation_id: str, *, actor: Actor = SYSTEM
    ) -> PendingAction | None:
        """The change waiting for the customer's yes in this conversation, if any (``actor``
        must be allowed to read the conversation)."""
        if actor != SYSTEM:
            store.get_conversation(self.parts.db, conversation_id, actor=actor)
        return pending_action(self.parts.db, conversation_id)

    def confirm_action(
        self, action_id: int, user_id: int, *, choice: int = 0, actor: Actor | None = None
    ) -> TurnResult:
        """Run the pending change (at the picked ``choice`` of time) and answer; see
        ``decisions``. ``actor``: who clicks (``None``: the customer ``user_id``)."""
        acting = actor if actor is not None else Actor.customer(user_id)
        return decide_action(
            self.parts, action_id, user_id, confirm=True, choice=choice, actor=acting
        )

    def decline_action(
        self, action_id: int, user_id: int, *, actor: Actor | None = None
    ) -> TurnResult:
        """Drop the pending change; the model acknowledges it."""
        acting = actor if actor is not None else Actor.customer(user_id)
        return decide_action(self.parts, action_id, user_id, confirm=False, actor=acting)

    def send(self, request: TurnRequest) -> TurnResult:
        """Run a whole turn and return its result."""
        with closing(self.stream(request)) as events:
            for event in events:
                if isinstance(event, TurnResult):
                    return event
        raise EngineError("The turn ended without a result.")

    def stream(self, request: TurnRequest) -> Generator[TurnEvent, None, None]:
        """Run a turn, yielding text as it streams, tool steps, notices and finally the result.

        Raises ``EngineError`` before anything is stored when the message is empty or too long,
        ``NotAllowed`` when ``request.acting`` may not send it (see ``authorize``).
        The ``turn`` span ends with the result, or when the stream is closed or fails first.
        """
        text = self._check_text(request.text)
        with _held_while_away():
            self.authorize(request)
            conversation_id = request.conversation_id or self.start_conversation(
                request.user_id, route=request.route, actor=request.acting
            )
        ids = with_ids(
            otel_context.get_current(),
            conversation_id=conversation_id,
            user_id=str(request.user_id),
            scenario=request.scenario,
        )
        span = tracer.start_span("turn", context=ids, kind=SpanKind.INTERNAL)
        finished = False
        try:
            with _held_while_away():
                plan = plan_turn(
                    self.parts, request, conversation_id, trace.set_span_in_context(span, ids)
                )
            if plan.variant is not None:
                ids = with_ids(ids, experiment=plan.experiment, variant=plan.variant)
                span.set_attributes(
                    {
                        attr.EXPERIMENT_NAME: plan.experiment or "",
                        attr.EXPERIMENT_VARIANT: plan.variant,
                    }
                )
            turn = _Turn(conversation_id, span, plan)
            steps = self._run(request, text, turn)
            for event in drive(trace.set_span_in_context(span, ids), steps):
                if isinstance(event, TurnResult):
                    _end_turn(span, event)
                    finished = True
                yield event
        except GeneratorExit:
            if not finished:
                span.set_attribute(attr.STREAM_CLOSED_EARLY, True)
                span.set_status(Status(StatusCode.ERROR, CLOSED_EARLY))
            raise
        except BaseException as exc:
            if not finished:
                span.record_exception(exc)
                span.set_attribute(attr.ERROR_TYPE, type(exc).__name__)
                span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"[:500]))
            raise
        finally:
            if not finished:
                span.end()

    def _check_text(self, text: str) -> str:
        text = storable(text).strip()
        limit = self.parts.settings.engine.max_message_chars
        if not text:
            raise EngineError("Type a message first.")
        if len(text) > limit:
            raise EngineError(
                f"That message is {len(text):,} characters; the limit is {limit:,}. Shorten it "
                "or attach it as a file instead."
            )
        return text

    def _run(
        self, request: TurnRequest, text: str, turn: _Turn
    ) -> Generator[TurnEvent, None, None]:
        parts = self.parts
        with _held_while_away():
            redaction = redact_message(
                parts.db, text, conversation_id=turn.conversation_id, where="user_message"
            )
            turn.user_message_id = save_question(
                parts,
                turn.conversation_id,
                redaction,
                user_id=request.user_id,
                trace_id=turn.trace_id,
                request_key=request.request_key,
            )
        # After the message is stored: a message held while the database was away takes one
        # allowance when it is finally stored, not one per try.
        decision = check_rate_limit(parts, request.user_id)
        with_retries(parts, lambda: expire_pending(parts.db, turn.conversation_id))
        if redaction.findings:
            turn.notices.append(privacy_notice(redaction.findings))
            yield Notice(turn.notices[-1])
        if not decision.allowed:
            yield turn.result(TurnStatus.RATE_LIMITED, parts.limiter.friendly_message(decision))
            return
        conversation = store.get_conversation(parts.db, turn.conversation_id)
        if conversation.status is ConversationStatus.CLAIMED:
            yield turn.result(TurnStatus.HANDED_TO_AGENT, WITH_AGENT)
            return
        generation = Generation()
        try:
            result = yield from self._answer(request, redaction.text, turn, generation)
        except GeneratorExit:
            self._save_interrupted(turn, generation)
            raise
        except Exception as failure:  # every failure ends in the apology; see _failed
            result = self._failed(turn, generation, failure)
        else:
            ticket_id = escalated_ticket(generation.tool_steps)
            if ticket_id is not None:
                summarise_escalation(parts, turn.conversation_id, ticket_id, turn.plan.route)
        yield result

    def _answer(
        self, request: TurnRequest, question: str, turn: _Turn, generation: Generation
    ) -> Generator[TurnEvent, None, TurnResult]:
        parts, route = self.parts, turn.plan.route
        hits = _search(parts, question, turn.conversation_id)
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

        fitted = budget_context(
            parts,
            system_prompt(history.summary),
            history,
            route,
            conversation_id=turn.conversation_id,
            trace_id=turn.trace_id,
        )
        messages = [ChatMessage(role="system", content=system_prompt(fitted.summary))]
        messages += fitted.messages
        key = answer_key(parts, messages, route, user_id=request.user_id)
        cached = look_up(parts, key, route)
        if cached is not None:
            replay(generation, cached)
            yield TextDelta(generation.text)
            citations = cached.citations
            quality = keep_score(
                parts, conversation_id=turn.conversation_id, quality=cached.quality
            )
        else:
            yield from generate_answer(
                parts,
                generation,
                messages,
                route,
                user_id=request.user_id,
                conversation_id=turn.conversation_id,
            )
            citations = citations_for(generation.text, hits)
            quality = score_turn(
                parts,
                conversation_id=turn.conversation_id,
                question=question,
                generation=generation,
                passages=[hits[c.number - 1].text for c in citations],
                route=route,
            )
            remember(parts, key, generation, citations, quality)
        return save_reply(
            parts,
            turn.result(
                TurnStatus.ANSWERED,
                generation.text,
                time_to_first_token_ms=generation.first_token_ms(turn.started),
                citations=citations,
                quality=quality,
                **generation.result_fields(),
            ),
        )

    def _failed(self, turn: _Turn, generation: Generation, failure: Exception) -> TurnResult:
        """The apology, stored with the error and what the turn did before it failed — the
        words of the answer the customer had already read come first.

        Our own errors (a provider outage, the knowledge base down…) carry a sentence; anything
        else is a bug, logged with its traceback — the customer still gets the apology.
        """
        if isinstance(failure, ObservatoryError):
            error = str(failure)
        else:
            log.exception("turn %s failed unexpectedly", turn.trace_id)
            error = f"Unexpected {type(failure).__name__}: {failure}"
        turn.span.record_exception(failure)
        turn.span.set_attribute(attr.ERROR_TYPE, type(failure).__name__)
        outage = isinstance(failure, ProviderError | GenerationFailed)
        reason = "provider outage" if outage else "turn failed"
        store.flag_conversation(self.parts.db, turn.conversation_id, reason)
        said = generation.text.strip()
        return save_reply(
            self.parts,
            turn.result(
                TurnStatus.FAILED,
                f"{said}\n\n{APOLOGY}" if said else APOLOGY,
                error=error,
                time_to_first_token_ms=generation.first_token_ms(turn.started),
                **generation.result_fields(),
            ),
        )

    def _save_interrupted(self, turn: _Turn, generation: Generation) -> None:
        """Keep what a closed stream had produced: the partial answer, tools run, usage."""
        result = turn.result(
            TurnStatus.FAILED,
            generation.text or INTERRUPTED,
            error=CLOSED_EARLY,
            **generation.result_fields(),
        )
        try:
            save_reply(self.parts, result)
        except StorageError as exc:
            log.warning("could not store the interrupted turn %s: %s", turn.trace_id, exc)


def _search(parts: EngineParts, question: str, conversation_id: str) -> list[SearchHit]:
    """The passages for the question: from the files the customer attached to this
    conversation first (they attached them to ask about them, "summarise this" included),
    then from the help centre (each question of a message asking several:
    ``questions``)."""
    hits = search_each_question(parts.kb, question, ("global", conversation_id))
    attached = parts.kb.list_documents(scope=conversation_id)
    if not attached:
        return list(hits)
    titles = " ".join(document.title for document in attached)
    own = parts.kb.search(f"{titles}\n{question}", scope=conversation_id)
    seen = {(hit.document_id, hit.page, hit.start) for hit in own}
    rest = [hit for hit in hits if (hit.document_id, hit.page, hit.start) not in seen]
    return [*own, *rest][: max(len(hits), len(own))]


@contextmanager
def _held_while_away() -> Iterator[None]:
    """A lost database connection before the customer's message is stored becomes
    ``DatabaseAway``: nothing of the turn is kept, so the message can be sent again whole."""
    try:
        yield
    except StorageError as exc:
        if is_connection_lost(exc) and not isinstance(exc, DatabaseAway):
            raise DatabaseAway(HELD) from exc
        raise


def _end_turn(span: Span, result: TurnResult) -> None:
    """Record the turn's outcome on its span and end it."""
    span.set_attribute(TURN_STATUS, result.status.value)
    if result.quality is not None:
        span.set_attribute(QUALITY_SCORE, result.quality.score)
    if result.status is TurnStatus.FAILED:
        span.set_status(Status(StatusCode.ERROR, result.error or result.status.value))
    else:
        span.set_status(Status(StatusCode.OK))
    span.end()
