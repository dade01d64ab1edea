"""The model's part of a turn: routed streaming calls and the tool loop.

The model may ask for tools; each runs as an ``execute_tool`` span and its result goes back to the
model, for at most ``engine.max_tool_rounds`` rounds — the last round offers no tools, so the
model has to answer. A tool that changes what the customer owns is not run: it is proposed
(``consent``), the answer asks the customer to confirm, and the loop ends. ``Generation`` keeps
what happened as it happens (text, tool steps, tokens, cost), so a turn that fails half-way
still knows which tools ran and what they cost.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from opentelemetry import trace

from core import clock
from core.conversation.consent import ASK_FIRST, propose_action
from core.conversation.escalation import ESCALATION_TOOLS
from core.conversation.parts import EngineParts
from core.conversation.turns import (
    PendingAction,
    TextDelta,
    ToolFinished,
    ToolStarted,
    ToolStep,
    TurnEvent,
)
from core.errors import EngineError, ProviderError
from core.providers.base import ChatChunk, ChatMessage, ChatRequest, ChatResponse, ToolCall
from core.providers.errors import AllProvidersFailed
from core.router import Attempt
from core.tools import ToolContext, ToolResult
from observability.pricing import PriceStatus, price_span_attributes

GENAI_PROVIDER = {"openai": "openai", "anthropic": "anthropic", "azure": "azure.ai.openai"}
ANSWER_MAX_TOKENS = 600
ANSWER_TEMPERATURE = 0.2


class GenerationFailed(EngineError):
    """Every model in the route failed; the message says what the last one answered."""


@dataclass
class Generation:
    """What the model side of a turn produced, filled in as it runs."""

    text: str = ""
    model: str | None = None
    provider: str | None = None
    simulated: bool | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: Decimal | None = Decimal(0)
    tool_steps: list[ToolStep] = field(default_factory=list)
    attempts: int = 0
    fallbacks: list[str] = field(default_factory=list)
    cached: bool = False
    escalated: bool = False
    first_token_at: float | None = None
    finish_reason: str | None = None
    """How the last model call ended (``stop`` for a whole answer); ``None`` before one did."""
    pending: PendingAction | None = None
    """A side-effect call the model asked for, waiting for the customer's yes."""

    def first_token_ms(self, started: float) -> float | None:
        """Milliseconds from ``started`` (a ``perf_counter`` reading) to the first text."""
        if self.first_token_at is None:
            return None
        return round((self.first_token_at - started) * 1000, 1)

    def result_fields(self) -> dict[str, Any]:
        """The ``TurnResult`` fields this generation fills, whether the turn answered or not."""
        return {
            "model": self.model,
            "provider": self.provider,
            "simulated": self.simulated,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": self.cost_usd,
            "tool_steps": tuple(self.tool_steps),
            "cached": self.cached,
            "attempts": self.attempts,
            "fallbacks": tuple(self.fallbacks),
            "pending_action": self.pending,
        }

    def add_attempts(self, attempts: Sequence[Attempt]) -> None:
        """Count the router's attempts of one call and the reasons it fell back."""
        self.attempts += len(attempts)
        self.fallbacks += [attempt.reason for attempt in attempts if attempt.reason]

    def add_usage(self, response: ChatResponse) -> None:
        self.model, self.provider = response.model, response.provider
        self.simulated = response.simulated
        self.finish_reason = response.finish_reason
        self.input_tokens += response.input_tokens
        self.output_tokens += response.output_tokens
        cost = price_response(response)
        self.cost_usd = None if cost is None or self.cost_usd is None else self.cost_usd + cost


def generate_answer(
    parts: EngineParts,
    generation: Generation,
    messages: Sequence[ChatMessage],
    route: Sequence[str],
    *,
    user_id: int,
    conversation_id: str,
) -> Iterator[TurnEvent]:
    """Stream the answer into ``generation``, yielding text deltas and tool steps."""
    conversation = list(messages)
    rounds = parts.settings.engine.max_tool_rounds
    context = ToolContext(
        engine=parts.db, user_id=user_id, conversation_id=conversation_id, now=parts.now()
    )
    for round_number in range(rounds + 1):
        offer_tools = round_number < rounds
        request = ChatRequest(
            model=route[0],
            messages=conversation,
            tools=parts.tools.specs() if offer_tools else [],
            temperature=ANSWER_TEMPERATURE,
            max_tokens=ANSWER_MAX_TOKENS,
            stream=True,
        )
        response = yield from _stream_round(parts, generation, request, route)
        if not response.tool_calls or not offer_tools:
            break
        conversation.append(
            ChatMessage(role="assistant", content=response.text, tool_calls=response.tool_calls)
        )
        for call in response.tool_calls:
            if parts.tools.needs_consent(call.name):
                if generation.pending is not None:
                    continue
                outcome = propose_action(
                    parts.db, parts.tools, call, context, route=route, trace_id=_trace_id()
                )
                if isinstance(outcome, PendingAction):
                    generation.pending = outcome
                    continue
                yield ToolStarted(call.name, dict(call.arguments))
                step = _refused(call, outcome)
            else:
                yield ToolStarted(call.name, dict(call.arguments))
                step = _run_tool(parts, call, context)
            generation.tool_steps.append(step)
            generation.escalated |= step.ok and step.name in ESCALATION_TOOLS
            conversation.append(ChatMessage(role="tool", content=step.result, tool_call_id=call.id))
            yield ToolFinished(step)
        if generation.pending is not None:
            yield from _ask_first(generation, generation.pending)
            return


def answer_without_tools(
    parts: EngineParts,
    generation: Generation,
    messages: Sequence[ChatMessage],
    route: Sequence[str],
) -> Iterator[TurnEvent]:
    """One routed call offering no tools: the model says what the tool results in
    ``messages`` mean for the customer."""
    request = ChatRequest(
        model=route[0],
        messages=list(messages),
        tools=[],
        temperature=ANSWER_TEMPERATURE,
        max_tokens=ANSWER_MAX_TOKENS,
        stream=True,
    )
    yield from _stream_round(parts, generation, request, route)


def price_response(response: ChatResponse) -> Decimal | None:
    """What the call cost in USD by the same prices as its span (cache reads and writes
    included); ``None`` when the model has no price."""
    price = price_span_attributes(
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": GENAI_PROVIDER.get(response.provider, response.provider),
            "gen_ai.request.model": response.model,
            "gen_ai.response.model": response.model,
            "gen_ai.usage.input_tokens": response.input_tokens,
            "gen_ai.usage.output_tokens": response.output_tokens,
            "gen_ai.usage.cache_read.input_tokens": response.cached_input_tokens,
            "gen_ai.usage.cache_creation.input_tokens": response.cache_creation_input_tokens,
        }
    )
    return price.cost_usd if price.status is PriceStatus.PRICED else None


def _stream_round(
    parts: EngineParts, generation: Generation, request: ChatRequest, route: Sequence[str]
) -> Generator[TurnEvent, None, ChatResponse]:
    response: ChatResponse | None = None
    separator = "\n\n" if generation.text else ""
    try:
        for item in parts.router.stream(request, route):
            if isinstance(item, ChatChunk):
                if item.text and generation.first_token_at is None:
                    generation.first_token_at = clock.perf_counter()
                if item.text:
                    text = separator + item.text
                    separator = ""
                    generation.text += text
                    yield TextDelta(text)
            else:
                response = item.response
                generation.add_attempts(item.attempts)
    except AllProvidersFailed as exc:
        generation.add_attempts(exc.attempts)
        raise GenerationFailed(str(exc)) from exc
    except ProviderError as exc:
        raise GenerationFailed(str(exc)) from exc
    if response is None:
        raise GenerationFailed("The model's stream ended without a final response.")
    generation.add_usage(response)
    return response


def _ask_first(generation: Generation, pending: PendingAction) -> Iterator[TurnEvent]:
    """End the answer with the question the customer confirms or declines."""
    text = ("\n\n" if generation.text else "") + ASK_FIRST.format(question=pending.question)
    if generation.first_token_at is None:
        generation.first_token_at = clock.perf_counter()
    generation.text += text
    yield TextDelta(text)


def _refused(call: ToolCall, result: ToolResult) -> ToolStep:
    """A side-effect call that cannot be done as asked: the model reads why, nothing ran."""
    return ToolStep(call.id, call.name, dict(call.arguments), False, result.content)


def _trace_id() -> str | None:
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


def _run_tool(parts: EngineParts, call: ToolCall, context: ToolContext) -> ToolStep:
    result = parts.tools.execute(call, context)
    return ToolStep(call.id, call.name, dict(call.arguments), result.ok, result.content)
