"""Trace an OpenAI (or Azure OpenAI) client: chat completions, streams, parse, embeddings.

Streams ask for usage (``stream_options={"include_usage": True}``) when the caller did not set
``stream_options``; the extra usage-only chunk is then kept from the caller, who sees exactly
the stream they asked for.
"""

from __future__ import annotations

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
    server_of,
    text_of,
    usage_count,
)
from observability.instrumentation._wrap import Operation, wrap_async_method, wrap_method

ClientT = TypeVar("ClientT")
SYSTEM_ROLES = frozenset({"system", "developer"})


def instrument_openai(
    client: ClientT,
    *,
    tracer_provider: trace.TracerProvider | None = None,
    capture_content: bool | None = None,
    redactor: Redactor | None = None,
) -> ClientT:
    """Trace every call this client makes and return the same client (idempotent).

    Works for ``OpenAI``, ``AsyncOpenAI``, ``AzureOpenAI`` and ``AsyncAzureOpenAI``. Spans go to
    ``tracer_provider`` (default: the global one, i.e. the running ``Observatory``). Message
    content is recorded only when ``capture_content`` (default: the Observatory's setting, else
    ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``), and always through ``redactor``
    (default: the built-in PII redactor).
    """
    import openai

    if not mark_instrumented(client):
        return client
    host, port, simulated = server_of(client)
    azure = isinstance(client, openai.AzureOpenAI | openai.AsyncAzureOpenAI)
    inst = Instrumentation(
        tracer_provider=tracer_provider or trace.get_tracer_provider(),
        provider_name=attr.PROVIDER_AZURE_OPENAI if azure else attr.PROVIDER_OPENAI,
        server_address=host,
        server_port=port,
        simulated=simulated,
        capture=capture_content,
        redactor=redactor,
    )
    wrap = wrap_async_method if isinstance(client, openai.AsyncOpenAI) else wrap_method
    completions: Any = client.chat.completions  # type: ignore[attr-defined]
    wrap(completions, "create", inst, CHAT)
    wrap(completions, "parse", inst, CHAT)
    wrap(client.embeddings, "create", inst, EMBEDDINGS)  # type: ignore[attr-defined]
    return client


def chat_request(kwargs: Mapping[str, Any]) -> Attributes:
    """Request attributes of ``chat.completions.create`` (no content)."""
    attributes: Attributes = {attr.REQUEST_STREAM: kwargs.get("stream") is True}
    put(attributes, attr.REQUEST_MAX_TOKENS, _given(kwargs, "max_completion_tokens", "max_tokens"))
    put(attributes, attr.REQUEST_TEMPERATURE, _given(kwargs, "temperature"))
    put(attributes, attr.REQUEST_TOP_P, _given(kwargs, "top_p"))
    attributes[attr.OUTPUT_TYPE] = "json" if _wants_json(kwargs.get("response_format")) else "text"
    return attributes


def chat_input(kwargs: Mapping[str, Any], call: Call) -> Attributes:
    """``gen_ai.system_instructions`` and ``gen_ai.input.messages``, redacted."""
    system, messages = [], []
    for message in kwargs.get("messages") or ():
        role = str(_field(message, "role"))
        text = call.redact(text_of(_field(message, "content")))
        if role in SYSTEM_ROLES:
            system.append({"type": "text", "content": text})
            continue
        parts: list[dict[str, Any]] = [{"type": "text", "content": text}] if text else []
        for tool_call in _field(message, "tool_calls") or ():
            parts.append(_tool_call_part(tool_call, call))
        if role == "tool":
            parts = [
                {
                    "type": "tool_call_response",
                    "id": _field(message, "tool_call_id"),
                    "response": text,
                }
            ]
        messages.append({"role": role, "parts": parts})
    attributes: Attributes = {attr.INPUT_MESSAGES: content_json(messages)}
    if system:
        attributes[attr.SYSTEM_INSTRUCTIONS] = content_json(system)
    return attributes


def chat_response(completion: Any, call: Call) -> Attributes:
    """Response attributes of a ``ChatCompletion`` (content only when capture is on)."""
    attributes = _usage(getattr(completion, "usage", None))
    put(attributes, attr.RESPONSE_ID, getattr(completion, "id", None))
    put(attributes, attr.RESPONSE_MODEL, getattr(completion, "model", None))
    outputs = []
    for choice in getattr(completion, "choices", None) or ():
        message = getattr(choice, "message", None)
        tool_calls = [
            (
                _field(tc, "id"),
                _field(_field(tc, "function"), "name"),
                _field(_field(tc, "function"), "arguments"),
            )
            for tc in getattr(message, "tool_calls", None) or ()
        ]
        outputs.append(
            (getattr(message, "content", None), tool_calls, getattr(choice, "finish_reason", None))
        )
    attributes.update(output_attributes(outputs, call))
    return attributes


def output_attributes(
    outputs: list[tuple[str | None, list[tuple[Any, Any, Any]], str | None]], call: Call
) -> Attributes:
    """Finish reasons, tool-call names and ids, and (when captured) the output messages."""
    attributes: Attributes = {}
    put(attributes, attr.RESPONSE_FINISH_REASONS, [reason for _, _, reason in outputs if reason])
    tool_calls = [tc for _, calls, _ in outputs for tc in calls]
    put(attributes, attr.TOOL_CALL_NAMES, [name for _, name, _ in tool_calls if name])
    put(attributes, attr.TOOL_CALL_IDS, [tc_id for tc_id, _, _ in tool_calls if tc_id])
    if call.policy.capture:
        messages = []
        for text, calls, reason in outputs:
            parts: list[dict[str, Any]] = []
            if text:
                parts.append({"type": "text", "content": call.redact(text)})
            parts += [
                {
                    "type": "tool_call",
                    "id": tc_id,
                    "name": name,
                    "arguments": call.redact(arguments or ""),
                }
                for tc_id, name, arguments in calls
            ]
            messages.append({"role": "assistant", "parts": parts, "finish_reason": reason or ""})
        attributes[attr.OUTPUT_MESSAGES] = content_json(messages)
    return attributes


class ChatChunks:
    """Reads ``ChatCompletionChunk``s: model, id, usage, finish reasons, text and tool calls."""

    def __init__(self, call: Call, kwargs: Mapping[str, Any]) -> None:
        self._call = call
        self._hide_usage = kwargs.get("stream_options") is None
        self._head: Attributes = {}
        self._usage: Attributes = {}
        self._texts: dict[int, list[str]] = {}
        self._reasons: dict[int, str] = {}
        self._tools: dict[int, dict[int, list[Any]]] = {}

    def observe(self, chunk: Any) -> bool:
        """Record one chunk; hide the usage-only chunk the caller did not ask for."""
        if not self._head:
            put(self._head, attr.RESPONSE_ID, getattr(chunk, "id", None))
            put(self._head, attr.RESPONSE_MODEL, getattr(chunk, "model", None))
        choices = getattr(chunk, "choices", None) or ()
        for choice in choices:
            self._observe_choice(choice)
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            self._usage = _usage(usage)
            return not (self._hide_usage and not choices)
        return True

    def _observe_choice(self, choice: Any) -> None:
        index = getattr(choice, "index", 0) or 0
        if getattr(choice, "finish_reason", None):
            self._reasons[index] = choice.finish_reason
        delta = getattr(choice, "delta", None)
        content = getattr(delta, "content", None)
        if content and self._call.policy.capture:
            self._texts.setdefault(index, []).append(content)
        for tool_call in getattr(delta, "tool_calls", None) or ():
            slot = self._tools.setdefault(index, {}).setdefault(tool_call.index, [None, None, ""])
            function = getattr(tool_call, "function", None)
            slot[0] = getattr(tool_call, "id", None) or slot[0]
            slot[1] = getattr(function, "name", None) or slot[1]
            slot[2] += getattr(function, "arguments", None) or ""

    def attributes(self) -> Attributes:
        """Everything gathered so far as response attributes."""
        indexes = sorted(set(self._texts) | set(self._reasons) | set(self._tools))
        outputs = [
            (
                "".join(self._texts.get(i, [])) or None,
                [tuple(slot) for slot in self._tools.get(i, {}).values()],
                self._reasons.get(i),
            )
            for i in indexes
        ]
        return {**self._head, **self._usage, **output_attributes(outputs, self._call)}


def with_usage_requested(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The stream's keyword arguments, asking for usage unless the caller set stream_options."""
    sent = dict(kwargs)
    if sent.get("stream_options") is None:
        sent["stream_options"] = {"include_usage": True}
    return sent


def embeddings_request(kwargs: Mapping[str, Any]) -> Attributes:
    """Request attributes of ``embeddings.create``."""
    attributes: Attributes = {}
    put(attributes, "gen_ai.request.encoding_formats", _given(kwargs, "encoding_format"))
    return attributes


def embeddings_response(response: Any, call: Call) -> Attributes:
    """Model, input tokens and vector size of an embeddings response."""
    attributes: Attributes = {}
    put(attributes, attr.RESPONSE_MODEL, getattr(response, "model", None))
    usage = getattr(response, "usage", None)
    put(attributes, attr.USAGE_INPUT_TOKENS, usage_count(getattr(usage, "prompt_tokens", None)))
    data = getattr(response, "data", None) or ()
    vector = getattr(data[0], "embedding", None) if data else None
    if isinstance(vector, list):
        attributes[attr.EMBEDDINGS_DIMENSION_COUNT] = len(vector)
    return attributes


def _usage(usage: Any) -> Attributes:
    if usage is None:
        return {}
    attributes: Attributes = {}
    put(attributes, attr.USAGE_INPUT_TOKENS, usage_count(getattr(usage, "prompt_tokens", None)))
    output_tokens = usage_count(getattr(usage, "completion_tokens", None))
    put(attributes, attr.USAGE_OUTPUT_TOKENS, output_tokens)
    prompt_details = getattr(usage, "prompt_tokens_details", None)
    cached = usage_count(getattr(prompt_details, "cached_tokens", None))
    put(attributes, attr.USAGE_CACHE_READ_INPUT_TOKENS, cached or None)
    completion_details = getattr(usage, "completion_tokens_details", None)
    reasoning = usage_count(getattr(completion_details, "reasoning_tokens", None))
    put(attributes, attr.USAGE_REASONING_OUTPUT_TOKENS, reasoning or None)
    return attributes


def _tool_call_part(tool_call: Any, call: Call) -> dict[str, Any]:
    function = _field(tool_call, "function")
    return {
        "type": "tool_call",
        "id": _field(tool_call, "id"),
        "name": _field(function, "name"),
        "arguments": call.redact(str(_field(function, "arguments") or "")),
    }


def _field(item: Any, name: str) -> Any:
    return item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)


def _given(kwargs: Mapping[str, Any], *names: str) -> Any:
    for name in names:
        value = kwargs.get(name)
        if value is not None and type(value).__name__ != "NotGiven":
            return value
    return None


def _wants_json(response_format: Any) -> bool:
    if isinstance(response_format, type):
        return True
    kind = _field(response_format, "type") if response_format is not None else None
    return kind in {"json_schema", "json_object"}


CHAT = Operation(
    name="chat",
    request=chat_request,
    response=chat_response,
    input_content=chat_input,
    recorder=ChatChunks,
    prepare=with_usage_requested,
)
EMBEDDINGS = Operation(name="embeddings", request=embeddings_request, response=embeddings_response)
