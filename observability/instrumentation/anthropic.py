"""Trace an Anthropic client: ``messages.create``, streamed or not, sync or async.

Anthropic's ``input_tokens`` exclude cached input; the span's ``gen_ai.usage.input_tokens``
adds cache reads and writes back, as the GenAI conventions define it, so the price calculator
can bill each cached token once at its own rate. The writes kept for an hour
(``usage.cache_creation.ephemeral_1h_input_tokens``) go on the span too: they cost more.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any, TypeVar

from opentelemetry import trace

from observability import attributes as attr
from observability.instrumentation._common import (
    Attributes,
    Call,
    Instrumentation,
    Redactor,
    content_json,
    mark_instrumented,
    put,
    safely,
    server_of,
    text_of,
    usage_count,
)
from observability.instrumentation._wrap import (
    Operation,
    async_wrapper,
    sync_wrapper,
    wrap_async_method,
    wrap_method,
)
from observability.instrumentation.openai import output_attributes

ClientT = TypeVar("ClientT")
ToolCall = tuple[Any, Any, Any]


def instrument_anthropic(
    client: ClientT,
    *,
    tracer_provider: trace.TracerProvider | None = None,
    capture_content: bool | None = None,
    redactor: Redactor | None = None,
) -> ClientT:
    """Trace every ``messages.create`` of this ``Anthropic``/``AsyncAnthropic`` client (idempotent).

    Returns the same client. Arguments as for ``instrument_openai``.
    """
    import anthropic

    if not mark_instrumented(client):
        return client
    host, port, simulated = server_of(client)
    inst = Instrumentation(
        tracer_provider=tracer_provider or trace.get_tracer_provider(),
        provider_name=attr.PROVIDER_ANTHROPIC,
        server_address=host,
        server_port=port,
        simulated=simulated,
        capture=capture_content,
        redactor=redactor,
    )
    _turn_off_sdk_spans(client)
    is_async = isinstance(client, anthropic.AsyncAnthropic)
    wrap = wrap_async_method if is_async else wrap_method
    messages: Any = client.messages  # type: ignore[attr-defined]
    wrap(messages, "create", inst, MESSAGES)
    _wrap_stream_helper(messages, inst, is_async=is_async)
    return client


def _wrap_stream_helper(messages: Any, inst: Instrumentation, *, is_async: bool) -> None:
    """Trace ``messages.stream(...)``: its raw event stream goes through our stream proxy.

    The helper's manager keeps the request it will send on ``__enter__`` in a private slot; we
    swap it for a traced one. If a later SDK renames that slot, the helper simply goes untraced.
    """
    original = getattr(messages, "stream", None)
    if original is None:
        return

    @functools.wraps(original)
    def stream(*args: Any, **kwargs: Any) -> Any:
        manager = original(*args, **kwargs)
        safely(_trace_manager, manager, inst, {**kwargs, "stream": True}, is_async)
        return manager

    messages.stream = stream


def _trace_manager(
    manager: Any, inst: Instrumentation, kwargs: dict[str, Any], is_async: bool
) -> None:
    slot = f"_{type(manager).__name__}__api_request"
    request = getattr(manager, slot)
    if is_async:
        traced = async_wrapper(lambda **_: request, inst, MESSAGES)
        setattr(manager, slot, traced(**kwargs))
    else:
        setattr(
            manager,
            slot,
            functools.partial(sync_wrapper(lambda **_: request(), inst, MESSAGES), **kwargs),
        )


def _turn_off_sdk_spans(client: Any) -> None:
    """The SDK's own spans (on by default since anthropic 2.1x) would double every call and its
    cost, and would carry content without our redaction; the client's setter turns them off."""
    set_option = getattr(client, "_set_open_telemetry", None)
    if callable(set_option):
        set_option(False)


def messages_request(kwargs: Mapping[str, Any]) -> Attributes:
    """Request attributes of ``messages.create`` (no content)."""
    attributes: Attributes = {attr.REQUEST_STREAM: kwargs.get("stream") is True}
    for key, name in (
        (attr.REQUEST_MAX_TOKENS, "max_tokens"),
        (attr.REQUEST_TEMPERATURE, "temperature"),
        (attr.REQUEST_TOP_P, "top_p"),
    ):
        value = kwargs.get(name)
        if type(value).__name__ != "NotGiven":
            put(attributes, key, value)
    output_format = kwargs.get("output_format")
    json_out = isinstance(output_format, Mapping) and output_format.get("type") == "json_schema"
    attributes[attr.OUTPUT_TYPE] = "json" if json_out else "text"
    return attributes


def messages_input(kwargs: Mapping[str, Any], call: Call) -> Attributes:
    """``gen_ai.system_instructions`` and ``gen_ai.input.messages``, redacted."""
    messages = [
        {"role": _field(message, "role"), "parts": _parts(_field(message, "content"), call)}
        for message in kwargs.get("messages") or ()
    ]
    attributes: Attributes = {attr.INPUT_MESSAGES: content_json(messages)}
    system = kwargs.get("system")
    if isinstance(system, str | list) and system:
        instructions = [{"type": "text", "content": call.redact(text_of(system))}]
        attributes[attr.SYSTEM_INSTRUCTIONS] = content_json(instructions)
    return attributes


def message_response(message: Any, call: Call) -> Attributes:
    """Response attributes of a ``Message``."""
    attributes = _usage(getattr(message, "usage", None))
    put(attributes, attr.RESPONSE_ID, getattr(message, "id", None))
    put(attributes, attr.RESPONSE_MODEL, getattr(message, "model", None))
    texts, tool_calls = [], []
    for block in getattr(message, "content", None) or ():
        kind = getattr(block, "type", None)
        if kind == "text":
            texts.append(block.text)
        elif kind == "tool_use":
            tool_calls.append((block.id, block.name, json.dumps(block.input, default=str)))
    outputs = [("".join(texts) or None, tool_calls, getattr(message, "stop_reason", None))]
    attributes.update(output_attributes(outputs, call))
    return attributes


class MessageEvents:
    """Reads raw stream events: ``message_start`` usage, blocks, ``message_delta`` usage."""

    def __init__(self, call: Call, kwargs: Mapping[str, Any]) -> None:
        self._call = call
        self._head: Attributes = {}
        self._usage: dict[str, int] = {}
        self._texts: list[str] = []
        self._tools: dict[int, list[Any]] = {}
        self._stop_reason: str | None = None

    def observe(self, event: Any) -> bool:
        """Record one event; every event is shown to the caller."""
        kind = getattr(event, "type", None)
        if kind == "message_start":
            message = event.message
            put(self._head, attr.RESPONSE_ID, getattr(message, "id", None))
            put(self._head, attr.RESPONSE_MODEL, getattr(message, "model", None))
            self._add_usage(getattr(message, "usage", None))
        elif kind == "content_block_start":
            block = event.content_block
            if getattr(block, "type", None) == "tool_use":
                self._tools[event.index] = [block.id, block.name, ""]
        elif kind == "content_block_delta":
            self._observe_delta(event.index, event.delta)
        elif kind == "message_delta":
            self._stop_reason = getattr(event.delta, "stop_reason", None) or self._stop_reason
            self._add_usage(getattr(event, "usage", None))
        return True

    def _observe_delta(self, index: int, delta: Any) -> None:
        kind = getattr(delta, "type", None)
        if kind == "text_delta" and self._call.policy.capture:
            self._texts.append(delta.text)
        elif kind == "input_json_delta" and index in self._tools:
            self._tools[index][2] += delta.partial_json

    def _add_usage(self, usage: Any) -> None:
        for field in USAGE_FIELDS:
            value = usage_count(getattr(usage, field, None))
            if value is not None:
                self._usage[field] = value
        hour = _hour_writes(usage)
        if hour is not None:
            self._usage[HOUR_WRITES] = hour

    def attributes(self) -> Attributes:
        """Everything gathered so far as response attributes."""
        tool_calls: list[ToolCall] = [(t[0], t[1], t[2]) for t in self._tools.values()]
        outputs = [("".join(self._texts) or None, tool_calls, self._stop_reason)]
        usage = _usage_from(self._usage) if self._usage else {}
        return {**self._head, **usage, **output_attributes(outputs, self._call)}


USAGE_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
)
HOUR_WRITES = "ephemeral_1h_input_tokens"
"""``usage.cache_creation.ephemeral_1h_input_tokens``: the cache writes kept for an hour, part
of ``cache_creation_input_tokens`` and billed at 2× input rather than 1.25×."""


def _usage(usage: Any) -> Attributes:
    if usage is None:
        return {}
    counts = {field: usage_count(getattr(usage, field, None)) or 0 for field in USAGE_FIELDS}
    counts[HOUR_WRITES] = _hour_writes(usage) or 0
    return _usage_from(counts)


def _hour_writes(usage: Any) -> int | None:
    return usage_count(getattr(getattr(usage, "cache_creation", None), HOUR_WRITES, None))


def _usage_from(counts: Mapping[str, int]) -> Attributes:
    read = counts.get("cache_read_input_tokens", 0)
    write = counts.get("cache_creation_input_tokens", 0)
    attributes: Attributes = {
        attr.USAGE_INPUT_TOKENS: counts.get("input_tokens", 0) + read + write,
        attr.USAGE_OUTPUT_TOKENS: counts.get("output_tokens", 0),
    }
    if read:
        attributes[attr.USAGE_CACHE_READ_INPUT_TOKENS] = read
    if write:
        attributes[attr.USAGE_CACHE_CREATION_INPUT_TOKENS] = write
    hour = min(counts.get(HOUR_WRITES, 0), write)
    if hour:
        attributes[attr.USAGE_CACHE_CREATION_1H_INPUT_TOKENS] = hour
    return attributes


def _parts(content: Any, call: Call) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "content": call.redact(content)}]
    parts: list[dict[str, Any]] = []
    for block in content or ():
        kind = _field(block, "type")
        if kind == "text":
            parts.append({"type": "text", "content": call.redact(str(_field(block, "text")))})
        elif kind == "tool_use":
            arguments = call.redact(json.dumps(_field(block, "input"), default=str))
            parts.append(
                {
                    "type": "tool_call",
                    "id": _field(block, "id"),
                    "name": _field(block, "name"),
                    "arguments": arguments,
                }
            )
        elif kind == "tool_result":
            response = call.redact(text_of(_field(block, "content")))
            parts.append(
                {
                    "type": "tool_call_response",
                    "id": _field(block, "tool_use_id"),
                    "response": response,
                }
            )
    return parts


def _field(item: Any, name: str) -> Any:
    return item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)


MESSAGES = Operation(
    name="chat",
    request=messages_request,
    response=message_response,
    input_content=messages_input,
    recorder=MessageEvents,
)
