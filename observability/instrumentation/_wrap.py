"""Wrapper factories: replace an SDK resource method with a traced one, on one client only.

Each factory takes its collaborators (instrumentation settings, the operation's attribute
functions) and returns a closure, as the OpenTelemetry ``openai-v2`` instrumentation does.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from observability.instrumentation._common import (
    Attributes,
    Call,
    Instrumentation,
    Recorder,
    fail_call,
    finish_call,
    safely,
    start_call,
)
from observability.instrumentation.streams import AsyncTracedStream, TracedStream

logger = logging.getLogger("observability.instrumentation")


@dataclass(frozen=True)
class Operation:
    """How one SDK method is traced: pure functions from request and response to attributes."""

    name: str
    request: Callable[[Mapping[str, Any]], Attributes]
    response: Callable[[Any, Call], Attributes]
    input_content: Callable[[Mapping[str, Any], Call], Attributes] | None = None
    recorder: Callable[[Call, Mapping[str, Any]], Recorder] | None = None
    prepare: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None


_Begun = tuple[Call, dict[str, Any], Recorder | None]
"""A call under way: its ``Call``, the keyword arguments sent, and its stream recorder."""


def wrap_method(resource: Any, method: str, inst: Instrumentation, op: Operation) -> None:
    """Replace ``resource.method`` (on this instance only) with its traced version."""
    original = getattr(resource, method, None)
    if original is None:
        return
    setattr(resource, method, sync_wrapper(original, inst, op))


def wrap_async_method(resource: Any, method: str, inst: Instrumentation, op: Operation) -> None:
    """Replace the coroutine method ``resource.method`` with its traced version."""
    original = getattr(resource, method, None)
    if original is None:
        return
    setattr(resource, method, async_wrapper(original, inst, op))


def sync_wrapper(original: Callable[..., Any], inst: Instrumentation, op: Operation) -> Any:
    """``original`` traced: one span per call, streams wrapped in ``TracedStream``."""

    @functools.wraps(original)
    def traced(*args: Any, **kwargs: Any) -> Any:
        begun = safely(_begin, inst, op, kwargs)
        if begun is None:
            return original(*args, **kwargs)
        try:
            result = original(*args, **begun[1])
        except BaseException as exc:
            fail_call(begun[0], exc)
            raise
        return _complete(begun, result, op, TracedStream)

    return traced


def async_wrapper(original: Callable[..., Any], inst: Instrumentation, op: Operation) -> Any:
    """The coroutine function ``original`` traced, streams wrapped in ``AsyncTracedStream``."""

    @functools.wraps(original)
    async def traced(*args: Any, **kwargs: Any) -> Any:
        begun = safely(_begin, inst, op, kwargs)
        if begun is None:
            return await original(*args, **kwargs)
        try:
            result = await original(*args, **begun[1])
        except BaseException as exc:
            fail_call(begun[0], exc)
            raise
        return _complete(begun, result, op, AsyncTracedStream)

    return traced


def _begin(inst: Instrumentation, op: Operation, kwargs: dict[str, Any]) -> _Begun:
    call = start_call(inst, op.name, str(kwargs.get("model") or ""), op.request(kwargs))
    if call.policy.capture and op.input_content is not None:
        content = safely(op.input_content, kwargs, call)
        if content:
            call.attributes.update(content)
    if kwargs.get("stream") is not True or op.recorder is None:
        return call, kwargs, None
    sent = op.prepare(kwargs) if op.prepare is not None else kwargs
    return call, sent, op.recorder(call, kwargs)


def _complete(begun: _Begun, result: Any, op: Operation, stream_type: type[Any]) -> Any:
    call, _, recorder = begun
    if recorder is not None:
        return stream_type(result, call, recorder)
    response = safely(op.response, result, call)
    finish_call(call, response or {})
    return result
