"""What the OpenAI and Anthropic instrumentations share: one CLIENT span per call, priced at end.

A call's attributes are gathered in a plain dict while the call runs; its span is made in one
step after the call ends, with the start time and parent context captured when it began, on the
Observatory's background ``SpanFinisher`` (inline under any other TracerProvider). Nothing nests
under a provider call, so the span need not exist while it runs.

Contract: a failure inside telemetry is logged and swallowed; the caller's result and the
caller's exceptions pass through unchanged.
"""

from __future__ import annotations

import json
import logging
import os
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any, Protocol, TypeVar

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from opentelemetry.util.types import AttributeValue

from observability import attributes as attr
from observability import clock
from observability.context import current_ids
from observability.pricing import PriceStatus, price_span_attributes

logger = logging.getLogger("observability.instrumentation")

CAPTURE_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
INSTRUMENTED_MARK = "_observatory_instrumented"
REDACTION_FAILED = "[withheld: redaction failed]"
SCALARS = (str, bool, int, float)
Attributes = dict[str, AttributeValue]
T = TypeVar("T")


class Redactor(Protocol):
    """Turns text that may hold personal data into text that does not."""

    def __call__(self, text: str) -> str:
        """Return ``text`` with personal data replaced."""
        ...


class Recorder(Protocol):
    """Reads a provider's stream chunks into span attributes (see ``streams``)."""

    def observe(self, chunk: Any) -> bool:
        """Record one chunk; ``False`` hides it from the caller (a usage chunk we asked for)."""
        ...

    def attributes(self) -> Attributes:
        """The response attributes gathered so far."""
        ...


@dataclass(frozen=True)
class ContentPolicy:
    """Whether prompts and answers go on spans, and the redactor they pass through first."""

    capture: bool = False
    redactor: Redactor | None = None


def capture_from_env() -> bool:
    """``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` read as a boolean (default off)."""
    return os.environ.get(CAPTURE_ENV, "").strip().lower() in {"true", "1", "yes", "on"}


@cache
def default_redactor() -> Redactor | None:
    """The built-in PII redactor, or ``None`` (content is then not captured) if unavailable."""
    try:
        from observability.redaction import default_redactor as redactor
    except ImportError:
        logger.warning("observability.redaction is missing: message content will not be captured")
        return None
    return redactor


@dataclass(frozen=True)
class Instrumentation:
    """The collaborators one instrumented client's wrappers share."""

    tracer_provider: trace.TracerProvider
    provider_name: str
    server_address: str | None
    server_port: int | None
    simulated: bool
    capture: bool | None = None
    redactor: Redactor | None = None
    tracer: Tracer = field(init=False)
    base_attributes: Attributes = field(init=False)
    """The attributes every span of this client carries: provider, server, simulated."""

    def __post_init__(self) -> None:
        tracer = self.tracer_provider.get_tracer("observability.instrumentation")
        object.__setattr__(self, "tracer", tracer)
        base: Attributes = {attr.PROVIDER_NAME: self.provider_name}
        if self.server_address:
            base[attr.SERVER_ADDRESS] = self.server_address
        if self.server_port:
            base[attr.SERVER_PORT] = self.server_port
        if self.simulated:
            base[attr.SIMULATED] = True
        object.__setattr__(self, "base_attributes", base)

    def content_policy(self) -> ContentPolicy:
        """This call's policy: explicit arguments, else the Observatory's, else the environment."""
        inherited = getattr(self.tracer_provider, "content_policy", None)
        if not isinstance(inherited, ContentPolicy):
            inherited = ContentPolicy(capture=capture_from_env())
        capture = inherited.capture if self.capture is None else self.capture
        redactor = self.redactor or inherited.redactor or default_redactor()
        return ContentPolicy(capture=capture and redactor is not None, redactor=redactor)


@dataclass(eq=False)
class Call:
    """One traced call in flight: its attributes so far; the span is made when the call ends."""

    inst: Instrumentation
    name: str
    attributes: Attributes
    policy: ContentPolicy
    parent: otel_context.Context
    start_ns: int = field(default_factory=clock.now_ns)
    started: float = field(default_factory=clock.perf_counter)
    ended: bool = False

    def redact(self, text: str) -> str:
        """``text`` through the redactor; a failing redactor withholds the text, never leaks it."""
        if self.policy.redactor is None:
            return ""
        try:
            return self.policy.redactor(text)
        except Exception:
            logger.exception("redactor failed; message content withheld")
            return REDACTION_FAILED


def start_call(inst: Instrumentation, operation: str, model: str, request: Attributes) -> Call:
    """Begin the CLIENT span ``{operation} {model}``: note the time, parent and request attributes.

    The ids of the enclosing ``context(...)`` go in first, so request attributes win over them.
    """
    parent = otel_context.get_current()
    attributes: Attributes = {
        **current_ids(parent),
        **inst.base_attributes,
        attr.OPERATION_NAME: operation,
        attr.REQUEST_MODEL: model,
        **request,
    }
    name = f"{operation} {model}" if model else operation
    return Call(inst, name, attributes, inst.content_policy(), parent)


def finish_call(call: Call, response: Attributes) -> None:
    """Add the response attributes, then have the span made and ended (once)."""
    _end(call, response, None)


def fail_call(call: Call, exc: BaseException, response: Attributes | None = None) -> None:
    """End the call as failed: its span gets status ERROR, ``error.type`` and the exception.

    Never raises.
    """
    failure = {**(response or {}), attr.ERROR_TYPE: safely(error_type, exc) or "unknown"}
    _end(call, failure, exc)


Ended = tuple["Call", int, BaseException | None]
"""An ended call, its end time (ns since the epoch) and its failure, if any."""


class Finisher(Protocol):
    """Makes the spans of ended calls off the request path (see ``finisher.SpanFinisher``)."""

    def submit(self, item: Ended) -> None:
        """Queue one ended call for its span."""
        ...


def _end(call: Call, response: Attributes, exc: BaseException | None) -> None:
    if call.ended:
        return
    call.ended = True
    ended: Ended = (call, clock.now_ns(), exc)
    try:
        call.attributes.update(response)
        finisher: Finisher | None = getattr(call.inst.tracer_provider, "span_finisher", None)
        if finisher is not None:
            finisher.submit(ended)
            return
    except Exception:
        logger.exception("telemetry failed; the call itself is unaffected")
        return
    safely(make_span, call.inst.tracer, ended)


def make_span(tracer: Tracer, ended: Ended) -> None:
    """Price the ended call and make its span with ``tracer``, with the call's own times."""
    call, end_ns, exc = ended
    attributes = call.attributes
    safely(_add_price, attributes, call.start_ns)
    span = tracer.start_span(
        call.name,
        context=call.parent,
        kind=SpanKind.CLIENT,
        attributes=attributes,
        start_time=call.start_ns,
    )
    try:
        if exc is not None:
            summary = failure_summary(exc)
            span.set_status(Status(StatusCode.ERROR, summary))
            span.record_exception(exc, attributes=_exception_event(exc, summary), timestamp=end_ns)
    finally:
        span.end(end_time=end_ns)


def _add_price(attributes: Attributes, start_ns: int) -> None:
    at = datetime.fromtimestamp(start_ns / 1e9, UTC)
    price = price_span_attributes(attributes, at=at)
    attributes[attr.COST_STATUS] = price.status.value
    if price.status is not PriceStatus.NOT_APPLICABLE:
        attributes[attr.COST_SOURCE] = price.source.value
    if price.status is PriceStatus.PRICED and price.cost_usd is not None:
        attributes[attr.COST_USD] = float(price.cost_usd)


def failure_summary(exc: BaseException) -> str:
    """A short fixed description of a failed call: its exception type and ``error.type``.

    Never the exception's text, which holds whatever the provider's error body said (an
    account name, a key's prefix, an echo of the request) and so is not fit for a span."""
    kind = error_type(exc)
    name = type(exc).__qualname__
    return name if kind == name else f"{name} ({kind})"


def _exception_event(exc: BaseException, summary: str) -> dict[str, str]:
    """The ``exception`` event's attributes without the exception's text: the summary for its
    message and only the frames for its stack trace."""
    frames = "".join(traceback.format_tb(exc.__traceback__))
    return {"exception.message": summary, "exception.stacktrace": frames}


def error_type(exc: BaseException) -> str:
    """``error.type``: the HTTP status (``"429"``), ``"timeout"``, or the exception class name."""
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        return str(status)
    if isinstance(exc, TimeoutError) or "timeout" in type(exc).__name__.lower():
        return "timeout"
    return type(exc).__qualname__


def safely(function: Callable[..., T], *args: Any) -> T | None:
    """Run a telemetry step; log and swallow its failure."""
    try:
        return function(*args)
    except Exception:
        logger.exception("telemetry failed; the call itself is unaffected")
        return None


def content_json(value: Any) -> str:
    """Captured content as the JSON string the GenAI conventions put on a span."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def text_of(content: Any) -> str:
    """The text of a message's content: a string, or the text parts of a list of parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    pieces = []
    for part in content:
        text = part.get("text") if isinstance(part, Mapping) else getattr(part, "text", None)
        if isinstance(text, str):
            pieces.append(text)
    return "\n".join(pieces)


def usage_count(value: Any) -> int | None:
    """A token count from an SDK usage field (``None`` when absent)."""
    return value if type(value) is int else None


def put(attributes: Attributes, key: str, value: Any) -> None:
    """Set ``key`` when ``value`` is a usable attribute value (skip ``None``)."""
    if value is None:
        return
    if isinstance(value, SCALARS):
        attributes[key] = value
    elif isinstance(value, list | tuple) and value:
        attributes[key] = tuple(str(item) for item in value)


def mark_instrumented(target: Any) -> bool:
    """Mark ``target`` instrumented; ``False`` if it already was (instrumenting is idempotent)."""
    if getattr(target, INSTRUMENTED_MARK, False):
        return False
    setattr(target, INSTRUMENTED_MARK, True)
    return True


def server_of(client: Any) -> tuple[str | None, int | None, bool]:
    """Host, port and whether the client talks to the simulator (``*.invalid`` host)."""
    url = getattr(client, "base_url", None)
    host = getattr(url, "host", None)
    port = getattr(url, "port", None)
    host = host if isinstance(host, str) and host else None
    port = port if isinstance(port, int) else None
    return host, port, bool(host and host.endswith(".invalid"))
