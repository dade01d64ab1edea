"""Route a request along an ordered chain of models, retrying, backing off and falling back.

A route is a list of model names (``["gpt-4", "claude-3-sonnet", "gpt-3.5-turbo"]``); a step may
name its provider (``"azure:gpt-4o"``), else the catalogue's provider is used. For each step:
skip it while its breaker is open; try up to ``max_attempts_per_model`` times with backoff
(honouring Retry-After); then fall back to the next step. Only the provider's own failures
(429, 5xx, timeouts, unreachable, malformed answers) are retried and count against its breaker;
the caller's 4xx (``BadRequest``, ``AuthenticationFailed``, ``UnknownModel``) falls back at once
without counting.

Spans (tracer ``support_observatory.router``): one ``route {name}`` parent, one
``attempt {model}`` child per call, failed ones included with ``observatory.fallback.reason``
and ``error.type``, and one per skipped step (breaker open, or no provider serves the model)
with its reason. The provider's own client span nests inside its attempt span.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, Status, StatusCode

from core.errors import ProviderError
from core.providers.base import ChatChunk, ChatProvider, ChatRequest, ChatResponse
from core.providers.catalogue import get_model
from core.providers.errors import (
    AllProvidersFailed,
    AuthenticationFailed,
    BadRequest,
    MalformedResponse,
    ProviderTimeout,
    RateLimited,
    UnknownModel,
)
from core.router.backoff import backoff_delay
from core.router.breaker import BreakerSnapshot, BreakerState, CircuitBreaker
from core.settings import RouterSettings
from observability import attributes as attr

TRACER_NAME = "support_observatory.router"

GENAI_PROVIDER = {"openai": "openai", "anthropic": "anthropic", "azure": "azure.ai.openai"}
Outcome = Literal["ok", "failed", "skipped"]


@dataclass(frozen=True)
class Attempt:
    """One try of one model (or a skip because its breaker was open)."""

    number: int
    model: str
    provider: str
    outcome: Outcome
    reason: str | None = None
    """Why the router moved on: ``rate_limited``, ``timeout``, ``server_error``,
    ``malformed_response``, ``authentication_failed``, ``unknown_model``, ``circuit_open``."""
    error_type: str | None = None
    error: str | None = None
    duration_s: float = 0.0
    waited_s: float = 0.0
    """Backoff slept before this attempt."""


@dataclass(frozen=True)
class RoutedResponse:
    """The answer and every attempt it took."""

    response: ChatResponse
    attempts: list[Attempt]


@dataclass
class _Slot:
    provider_name: str
    model: str
    number: int
    waited_s: float
    error: ProviderError | None = None
    done: bool = False


@dataclass
class _Run:
    attempts: list[Attempt] = field(default_factory=list)
    number: int = 0


class Router:
    """Retries, backoff, circuit breakers and fallback over ``providers`` (by provider name).

    ``clock``, ``sleep`` and ``random`` (jitter in [0, 1)) are injectable for tests; spans go to
    ``tracer_provider`` (default: the global one).
    """

    def __init__(
        self,
        providers: Mapping[str, ChatProvider],
        settings: RouterSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        random: Callable[[], float] = random.random,
        tracer_provider: trace.TracerProvider | None = None,
    ) -> None:
        self._providers = dict(providers)
        self._settings = settings
        self._clock = clock
        self._sleep = sleep
        self._random = random
        self._breakers: dict[str, CircuitBreaker] = {}
        self._tracer = trace.get_tracer(TRACER_NAME, tracer_provider=tracer_provider)

    def chat(
        self, request: ChatRequest, route: Sequence[str], *, name: str | None = None
    ) -> RoutedResponse:
        """The first answer along ``route``; raises ``AllProvidersFailed`` when every model
        failed."""
        run = _Run()
        with self._tracer.start_as_current_span(f"route {name or _name(route)}") as route_span:
            route_span.set_attribute(attr.ROUTE, name or _name(route))
            try:
                return self._chat(request, route, run, route_span)
            except ProviderError as exc:
                _mark_error(route_span, exc)
                raise

    def _chat(
        self, request: ChatRequest, route: Sequence[str], run: _Run, route_span: Span
    ) -> RoutedResponse:
        for slot in self._plan(route, run, trace.set_span_in_context(route_span)):
            with self._tracer.start_as_current_span(f"attempt {slot.model}") as span:
                started = self._clock()
                _start_attempt(span, slot)
                try:
                    response = self._provider(slot).chat(replace(request, model=slot.model))
                except ProviderError as exc:
                    self._fail(run, slot, exc, span, started)
                    continue
                except BaseException:
                    self._breaker(slot.provider_name, slot.model).release()
                    raise
                self._succeed(run, slot, span, started)
                return RoutedResponse(response, run.attempts)
        raise self._all_failed(run, route_span)

    def stream(
        self, request: ChatRequest, route: Sequence[str], *, name: str | None = None
    ) -> Iterator[ChatChunk | RoutedResponse]:
        """Text chunks from the first model that answers, then one ``RoutedResponse``.

        Falls back only while nothing has been yielded; a failure after the first chunk raises.
        """
        run = _Run()
        route_span = self._tracer.start_span(f"route {name or _name(route)}")
        route_span.set_attribute(attr.ROUTE, name or _name(route))
        parent = trace.set_span_in_context(route_span)
        try:
            for slot in self._plan(route, run, parent):
                span = self._tracer.start_span(f"attempt {slot.model}", context=parent)
                started = self._clock()
                _start_attempt(span, slot)
                chunks = self._provider(slot).stream(replace(request, model=slot.model))
                try:
                    response = yield from _pull(chunks, span, slot)
                    self._succeed(run, slot, span, started)
                except ProviderError as exc:
                    self._fail(run, slot, exc, span, started, fallback=not slot.done)
                    if slot.done:
                        raise
                    continue
                except BaseException:  # closed early, or not a provider failure
                    self._breaker(slot.provider_name, slot.model).release()
                    raise
                finally:
                    span.end()
                    _close(chunks)
                yield RoutedResponse(response, run.attempts)
                return
            raise self._all_failed(run, route_span)
        except GeneratorExit:
            raise
        except BaseException as exc:
            _mark_error(route_span, exc)
            raise
        finally:
            route_span.end()

    def breaker_states(self) -> dict[str, BreakerState]:
        """State of every breaker used so far, keyed ``provider:model``."""
        return {key: breaker.state for key, breaker in sorted(self._breakers.items())}

    def breaker_snapshots(self) -> dict[str, BreakerSnapshot]:
        """State, consecutive failures and seconds until a trial, keyed ``provider:model``."""
        return {key: breaker.snapshot() for key, breaker in sorted(self._breakers.items())}

    def _plan(self, route: Sequence[str], run: _Run, parent: Context) -> Iterator[_Slot]:
        if not route:
            raise BadRequest("The route names no model; give at least one.")
        for step in route:
            provider_name, model = self._resolve(step)
            if provider_name is None:
                self._skip(run, parent, model, "", "unknown_model", "UnknownModel")
                continue
            breaker = self._breaker(provider_name, model)
            if not breaker.allow():
                self._skip(run, parent, model, provider_name, "circuit_open")
                continue
            waited = 0.0
            for retry in range(self._settings.max_attempts_per_model):
                run.number += 1
                slot = _Slot(provider_name, model, run.number, waited)
                yield slot
                if slot.error is None or not _is_provider_failure(slot.error):
                    break
                if retry + 1 == self._settings.max_attempts_per_model or not breaker.allow():
                    break
                delay = self._delay(retry + 1, slot.error)
                if delay is None:
                    break
                self._sleep(delay)
                waited = delay

    def _skip(
        self,
        run: _Run,
        parent: Context,
        model: str,
        provider_name: str,
        reason: str,
        error_type: str | None = None,
    ) -> None:
        """Record a step not tried, with an attempt span of its own saying why."""
        run.number += 1
        run.attempts.append(
            Attempt(run.number, model, provider_name, "skipped", reason, error_type)
        )
        span = self._tracer.start_span(f"attempt {model}", context=parent)
        _start_attempt(span, _Slot(provider_name, model, run.number, 0.0))
        span.set_attribute(attr.FALLBACK_REASON, reason)
        if error_type is not None:
            span.set_attribute(attr.ERROR_TYPE, error_type)
            span.set_status(Status(StatusCode.ERROR, f"No provider serves {model}."))
        span.end()

    def _delay(self, retry: int, error: ProviderError) -> float | None:
        return backoff_delay(
            retry,
            base_s=self._settings.backoff_base_s,
            max_s=self._settings.backoff_max_s,
            random=self._random,
            retry_after_s=error.retry_after_s if isinstance(error, RateLimited) else None,
        )

    def _resolve(self, step: str) -> tuple[str | None, str]:
        provider_name, _, model = step.rpartition(":")
        if not provider_name:
            try:
                provider_name = get_model(model).provider
            except UnknownModel:
                return None, model
        provider = self._providers.get(provider_name)
        if provider is None or not provider.serves(model):
            return None, model
        return provider_name, model

    def _breaker(self, provider_name: str, model: str) -> CircuitBreaker:
        key = f"{provider_name}:{model}"
        breaker = self._breakers.get(key)
        if breaker is None:
            fresh = CircuitBreaker(
                failure_threshold=self._settings.breaker_failure_threshold,
                reset_s=self._settings.breaker_reset_s,
                clock=self._clock,
            )
            breaker = self._breakers.setdefault(key, fresh)
        return breaker

    def _provider(self, slot: _Slot) -> ChatProvider:
        return self._providers[slot.provider_name]

    def _fail(
        self,
        run: _Run,
        slot: _Slot,
        exc: ProviderError,
        span: Span,
        started: float,
        *,
        fallback: bool = True,
    ) -> None:
        slot.error = exc
        breaker = self._breaker(slot.provider_name, slot.model)
        reason = fallback_reason(exc)
        if _is_provider_failure(exc):
            breaker.record_failure()
        else:
            breaker.release()
        if fallback:
            span.set_attribute(attr.FALLBACK_REASON, reason)
        _mark_error(span, exc)
        run.attempts.append(
            Attempt(
                slot.number,
                slot.model,
                slot.provider_name,
                "failed",
                reason,
                type(exc).__name__,
                str(exc),
                self._clock() - started,
                slot.waited_s,
            )
        )

    def _succeed(self, run: _Run, slot: _Slot, span: Span, started: float) -> None:
        self._breaker(slot.provider_name, slot.model).record_success()
        span.set_status(Status(StatusCode.OK))
        run.attempts.append(
            Attempt(
                slot.number,
                slot.model,
                slot.provider_name,
                "ok",
                duration_s=self._clock() - started,
                waited_s=slot.waited_s,
            )
        )

    def _all_failed(self, run: _Run, route_span: Span) -> AllProvidersFailed:
        summary = "; ".join(f"{a.model}: {a.reason}" for a in run.attempts if a.reason)
        route_span.set_attribute("observatory.attempts", len(run.attempts))
        return AllProvidersFailed(
            f"Every model in the route failed ({summary}); try again in a minute.",
            attempts=run.attempts,
        )


def fallback_reason(exc: ProviderError) -> str:
    """The short reason recorded when an attempt fails with ``exc``."""
    if isinstance(exc, RateLimited):
        return "rate_limited"
    if isinstance(exc, ProviderTimeout):
        return "timeout"
    if isinstance(exc, MalformedResponse):
        return "malformed_response"
    if isinstance(exc, AuthenticationFailed):
        return "authentication_failed"
    if isinstance(exc, UnknownModel):
        return "unknown_model"
    if isinstance(exc, BadRequest):
        return "bad_request"
    return "server_error"


def _is_provider_failure(exc: ProviderError) -> bool:
    """True when the provider failed (worth retrying, counts against its breaker); False for
    the caller's 4xx (bad request, context too long, refused key, unknown model)."""
    return not isinstance(exc, BadRequest | AuthenticationFailed | UnknownModel)


def _pull(
    chunks: Iterator[ChatChunk | ChatResponse], span: Span, slot: _Slot
) -> Generator[ChatChunk, None, ChatResponse]:
    """Yield the provider's chunks with ``span`` current only while pulling each one."""
    while True:
        with trace.use_span(span, record_exception=False, set_status_on_exception=False):
            item = next(chunks, None)
        if item is None:
            raise MalformedResponse(f"The {slot.model} stream ended without a final answer.")
        if isinstance(item, ChatResponse):
            return item
        slot.done = True
        yield item


def _close(chunks: Iterator[ChatChunk | ChatResponse]) -> None:
    close = getattr(chunks, "close", None)
    if close is not None:
        close()


def _start_attempt(span: Span, slot: _Slot) -> None:
    span.set_attribute(attr.ATTEMPT, slot.number)
    span.set_attribute("gen_ai.request.model", slot.model)
    if slot.provider_name:
        span.set_attribute("gen_ai.provider.name", GENAI_PROVIDER.get(slot.provider_name, ""))
    if slot.waited_s:
        span.set_attribute("observatory.backoff_s", slot.waited_s)


def _mark_error(span: Span, exc: BaseException) -> None:
    """``error.type`` and a short fixed status: our sentence for a whole route failing (it
    names models and reasons only), else the reason, never the provider's error text."""
    span.set_attribute(attr.ERROR_TYPE, type(exc).__name__)
    if isinstance(exc, AllProvidersFailed):
        description = str(exc)[:200]
    elif isinstance(exc, ProviderError):
        description = f"{type(exc).__name__}: {fallback_reason(exc)}"
    else:
        description = type(exc).__name__
    span.set_status(Status(StatusCode.ERROR, description))


def _name(route: Sequence[str]) -> str:
    return " → ".join(route)
