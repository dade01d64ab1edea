"""``@observe`` and ``span(...)``: spans for the steps of a turn that are not LLM calls.

Both nest under whatever span is current, so one user turn makes one trace. A failure inside
telemetry is logged and swallowed; the wrapped code's own exceptions propagate unchanged.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import AsyncGenerator, Callable, Generator, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar, overload

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import INVALID_SPAN, Span, Status, StatusCode
from opentelemetry.util.types import AttributeValue

from observability.instrumentation._common import error_type, safely

logger = logging.getLogger("observability")
F = TypeVar("F", bound=Callable[..., Any])
TRACER_NAME = "observability"


@contextmanager
def span(name: str, **attributes: AttributeValue) -> Iterator[Span]:
    """Trace the block as span ``name`` (current inside the block); yields the span.

    Attribute names with dots go in as ``**{"observatory.route": "..."}``. An exception leaving
    the block marks the span ERROR with ``error.type`` and propagates unchanged.
    """
    with _traced(trace.get_tracer(TRACER_NAME), name, attributes) as current:
        yield current


@contextmanager
def _traced(
    tracer: trace.Tracer, name: str, attributes: Mapping[str, AttributeValue]
) -> Iterator[Span]:
    current = safely(tracer.start_span, name, None, trace.SpanKind.INTERNAL, attributes)
    if current is None:
        yield INVALID_SPAN
        return
    token = safely(otel_context.attach, trace.set_span_in_context(current))
    try:
        yield current
    except BaseException as exc:
        safely(record_error, current, exc)
        raise
    finally:
        if token is not None:
            safely(otel_context.detach, token)
        safely(current.end)


def record_error(current: Span, exc: BaseException) -> None:
    """Mark ``current`` ERROR with ``error.type`` and the exception."""
    current.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"[:500]))
    current.set_attribute("error.type", error_type(exc))
    current.record_exception(exc)


@overload
def observe(func: F, /) -> F: ...


@overload
def observe(
    *, name: str | None = None, attributes: Mapping[str, AttributeValue] | None = None
) -> Callable[[F], F]: ...


def observe(
    func: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    attributes: Mapping[str, AttributeValue] | None = None,
) -> Any:
    """Trace each call of a function as a span: ``@observe`` or ``@observe(name=...)``.

    Works on sync and async functions and on sync and async generators (the span covers the
    whole iteration and ends when the generator finishes, is closed or fails).
    """

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        span_name = name or function.__qualname__
        fixed = {"code.function.name": function.__qualname__, **(attributes or {})}
        if inspect.isasyncgenfunction(function):
            return _async_generator(function, span_name, fixed)
        if inspect.isgeneratorfunction(function):
            return _generator(function, span_name, fixed)
        if inspect.iscoroutinefunction(function):
            return _coroutine(function, span_name, fixed)
        return _function(function, span_name, fixed)

    return decorate(func) if func is not None else decorate


Fixed = Mapping[str, AttributeValue]


def _function(function: Callable[..., Any], name: str, fixed: Fixed) -> Callable[..., Any]:
    @functools.wraps(function)
    def traced(*args: Any, **kwargs: Any) -> Any:
        with _traced(trace.get_tracer(TRACER_NAME), name, fixed):
            return function(*args, **kwargs)

    return traced


def _coroutine(function: Callable[..., Any], name: str, fixed: Fixed) -> Callable[..., Any]:
    @functools.wraps(function)
    async def traced(*args: Any, **kwargs: Any) -> Any:
        with _traced(trace.get_tracer(TRACER_NAME), name, fixed):
            return await function(*args, **kwargs)

    return traced


def _generator(function: Callable[..., Any], name: str, fixed: Fixed) -> Callable[..., Any]:
    @functools.wraps(function)
    def traced(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        current = safely(
            trace.get_tracer(TRACER_NAME).start_span, name, None, trace.SpanKind.INTERNAL, fixed
        )
        inner = function(*args, **kwargs)
        if current is None:
            return (yield from inner)
        active = trace.set_span_in_context(current)
        try:
            sent = None
            while True:
                token = otel_context.attach(active)
                try:
                    item = inner.send(sent)
                except StopIteration as stop:
                    return stop.value
                finally:
                    otel_context.detach(token)
                sent = yield item
        except GeneratorExit:
            raise
        except BaseException as exc:
            safely(record_error, current, exc)
            raise
        finally:
            inner.close()
            safely(current.end)

    return traced


def _async_generator(function: Callable[..., Any], name: str, fixed: Fixed) -> Callable[..., Any]:
    @functools.wraps(function)
    async def traced(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
        current = safely(
            trace.get_tracer(TRACER_NAME).start_span, name, None, trace.SpanKind.INTERNAL, fixed
        )
        inner = function(*args, **kwargs)
        active = trace.set_span_in_context(current) if current is not None else None
        try:
            sent = None
            while True:
                token = otel_context.attach(active) if active is not None else None
                try:
                    item = await inner.asend(sent)
                except StopAsyncIteration:
                    return
                finally:
                    if token is not None:
                        otel_context.detach(token)
                sent = yield item
        except GeneratorExit:
            raise
        except BaseException as exc:
            if current is not None:
                safely(record_error, current, exc)
            raise
        finally:
            await inner.aclose()
            if current is not None:
                safely(current.end)

    return traced
