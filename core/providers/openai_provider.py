"""OpenAI chat completions and embeddings on the official ``openai`` SDK.

The mapping to and from the chat-completions wire format is shared with Azure OpenAI
(``azure_provider``), which differs only in how a model is named (a deployment). SDK exceptions
are mapped here, once, to ``core.providers.errors``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx2
import openai

from core.errors import ProviderError
from core.providers.base import (
    ChatChunk,
    ChatMessage,
    ChatRequest,
    ChatResponse,
    EmbeddingResult,
    StreamItem,
    ToolCall,
    ToolSpec,
    parse_tool_call,
)
from core.providers.catalogue import ProviderName, get_model
from core.providers.errors import (
    MalformedResponse,
    ProviderTimeout,
    ProviderUnavailable,
    UnknownModel,
    error_for_status,
)

STREAM_OPTIONS = {"include_usage": True}


def to_openai_messages(messages: Sequence[ChatMessage]) -> list[dict[str, Any]]:
    """Our messages in the chat-completions shape (tool calls with JSON-encoded arguments)."""
    wire: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "tool":
            wire.append(
                {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.content}
            )
        elif message.role == "assistant" and message.tool_calls:
            calls = [_wire_tool_call(call) for call in message.tool_calls]
            wire.append(
                {"role": "assistant", "content": message.content or None, "tool_calls": calls}
            )
        else:
            wire.append({"role": message.role, "content": message.content})
    return wire


def to_openai_tools(tools: Sequence[ToolSpec]) -> list[dict[str, Any]]:
    """Tool specs as chat-completions ``function`` tools."""
    return [
        {
            "type": "function",
            "function": {
                "name": tool.name,
                "description": tool.description,
                "parameters": tool.parameters,
            },
        }
        for tool in tools
    ]


def build_chat_params(request: ChatRequest, model_id: str) -> dict[str, Any]:
    """Keyword arguments for ``chat.completions.create`` (without ``stream``)."""
    params: dict[str, Any] = {"model": model_id, "messages": to_openai_messages(request.messages)}
    if request.tools:
        params["tools"] = to_openai_tools(request.tools)
    if request.response_format is not None:
        params["response_format"] = request.response_format
    if request.temperature is not None:
        params["temperature"] = request.temperature
    if request.max_tokens is not None:
        params["max_tokens"] = request.max_tokens
    return params


def parse_completion(completion: Any, provider: ProviderName, simulated: bool) -> ChatResponse:
    """A ``ChatCompletion`` as our ``ChatResponse``; unreadable answers raise MalformedResponse."""
    if not completion.choices:
        raise MalformedResponse(f"{provider} answered without any choice; try again.")
    choice = completion.choices[0]
    calls = [
        parse_tool_call(call.id, call.function.name, call.function.arguments)
        for call in choice.message.tool_calls or []
    ]
    input_tokens, output_tokens, cached = _usage(completion.usage)
    return ChatResponse(
        text=choice.message.content or "",
        tool_calls=calls,
        model=completion.model,
        provider=provider,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cached_input_tokens=cached,
        finish_reason=choice.finish_reason or "stop",
        simulated=simulated,
    )


@dataclass
class StreamAssembler:
    """Folds chat-completion chunks into text deltas and one final ``ChatResponse``."""

    provider: ProviderName
    simulated: bool
    model: str
    text: list[str] = field(default_factory=list)
    calls: dict[int, list[str]] = field(default_factory=dict)
    finish_reason: str | None = None
    usage: Any = None

    def feed(self, chunk: Any) -> str:
        """Take one chunk; return its text (possibly empty)."""
        self.model = chunk.model or self.model
        if chunk.usage is not None:
            self.usage = chunk.usage
        if not chunk.choices:
            return ""
        choice = chunk.choices[0]
        if choice.finish_reason:
            self.finish_reason = choice.finish_reason
        for delta in choice.delta.tool_calls or []:
            parts = self.calls.setdefault(delta.index, ["", "", ""])
            function = delta.function
            parts[0] += delta.id or ""
            parts[1] += (function.name or "") if function else ""
            parts[2] += (function.arguments or "") if function else ""
        text = choice.delta.content or ""
        self.text.append(text)
        return text

    def finish(self, label: str) -> ChatResponse:
        """The whole answer with the usage of the final chunk; a stream that ended without a
        finish reason (no choices at all, or cut off partway) raises ``MalformedResponse``."""
        if self.finish_reason is None:
            raise MalformedResponse(f"{label} ended its answer before finishing it; try again.")
        input_tokens, output_tokens, cached = _usage(self.usage)
        return ChatResponse(
            text="".join(self.text),
            tool_calls=[parse_tool_call(*self.calls[index]) for index in sorted(self.calls)],
            model=self.model,
            provider=self.provider,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cached_input_tokens=cached,
            finish_reason=self.finish_reason,
            simulated=self.simulated,
        )


def map_openai_error(exc: Exception, label: str) -> ProviderError:
    """Our error for an exception raised by the ``openai`` SDK or its HTTP client."""
    if isinstance(exc, openai.APIStatusError):
        headers = dict(exc.response.headers)
        return error_for_status(exc.status_code, label, _detail(exc), headers)
    if isinstance(exc, openai.APITimeoutError | httpx2.TimeoutException):
        return ProviderTimeout(f"{label} did not answer in time; try again.")
    if isinstance(exc, openai.APIResponseValidationError | ValueError):
        return MalformedResponse(f"{label} answered something unreadable; try again ({exc}).")
    return ProviderUnavailable(f"{label} could not be reached; check the network ({exc}).")


SDK_ERRORS = (openai.APIError, httpx2.HTTPError, ValueError)


class OpenAIChatProvider:
    """Chat and embeddings through ``openai.OpenAI`` / ``openai.AsyncOpenAI``."""

    label = "OpenAI"

    def __init__(
        self,
        client: openai.OpenAI,
        async_client: openai.AsyncOpenAI | None = None,
        *,
        simulated: bool,
        name: ProviderName = "openai",
    ) -> None:
        self.client = client
        self.async_client = async_client
        self.simulated = simulated
        self.name: ProviderName = name

    def serves(self, model: str) -> bool:
        """True for catalogue models whose provider is OpenAI."""
        try:
            return get_model(model).provider == "openai"
        except UnknownModel:
            return False

    def model_id(self, model: str) -> str:
        """What the SDK sends as ``model``."""
        info = get_model(model)
        if info.provider != "openai":
            raise UnknownModel(f"{model} is an {info.provider} model; OpenAI cannot answer it.")
        return info.api_id

    def chat(self, request: ChatRequest) -> ChatResponse:
        """One complete answer."""
        params, label = self._params(request)
        try:
            completion = self.client.chat.completions.create(**params)
            return parse_completion(completion, self.name, self.simulated)
        except SDK_ERRORS as exc:
            raise map_openai_error(exc, label) from exc

    def stream(self, request: ChatRequest) -> Iterator[StreamItem]:
        """Text chunks, then the ``ChatResponse`` with usage from the final chunk."""
        params, label = self._params(request)
        assembler = StreamAssembler(self.name, self.simulated, params["model"])
        try:
            opened: Any = self.client.chat.completions.create(**_streaming(params))
            with opened as chunks:
                for chunk in chunks:
                    text = assembler.feed(chunk)
                    if text:
                        yield ChatChunk(text)
            response = assembler.finish(label)
        except SDK_ERRORS as exc:
            raise map_openai_error(exc, label) from exc
        yield response

    async def achat(self, request: ChatRequest) -> ChatResponse:
        """``chat`` on the async client."""
        params, label = self._params(request)
        try:
            completion = await self._async().chat.completions.create(**params)
            return parse_completion(completion, self.name, self.simulated)
        except SDK_ERRORS as exc:
            raise map_openai_error(exc, label) from exc

    async def astream(self, request: ChatRequest) -> AsyncIterator[StreamItem]:
        """``stream`` on the async client."""
        params, label = self._params(request)
        assembler = StreamAssembler(self.name, self.simulated, params["model"])
        try:
            chunks: Any = await self._async().chat.completions.create(**_streaming(params))
            async with chunks:
                async for chunk in chunks:
                    text = assembler.feed(chunk)
                    if text:
                        yield ChatChunk(text)
            response = assembler.finish(label)
        except SDK_ERRORS as exc:
            raise map_openai_error(exc, label) from exc
        yield response

    def embed(self, texts: Sequence[str], model: str) -> EmbeddingResult:
        """Vectors for ``texts`` (in order) and the tokens billed."""
        model_id = self.model_id(model)
        try:
            answer = self.client.embeddings.create(model=model_id, input=list(texts))
        except SDK_ERRORS as exc:
            raise map_openai_error(exc, f"{self.label} ({model})") from exc
        rows = sorted(answer.data, key=lambda row: row.index)
        tokens = answer.usage.prompt_tokens if answer.usage else 0
        return EmbeddingResult([list(row.embedding) for row in rows], tokens)

    def _params(self, request: ChatRequest) -> tuple[dict[str, Any], str]:
        return build_chat_params(request, self.model_id(request.model)), self._label(request)

    def _label(self, request: ChatRequest) -> str:
        return f"{self.label} ({request.model})"

    def _async(self) -> openai.AsyncOpenAI:
        if self.async_client is None:
            raise ProviderUnavailable(f"{self.label} was set up without an async client.")
        return self.async_client


def _streaming(params: dict[str, Any]) -> dict[str, Any]:
    return {**params, "stream": True, "stream_options": STREAM_OPTIONS}


def _usage(usage: Any) -> tuple[int, int, int]:
    if usage is None:
        return 0, 0, 0
    details = getattr(usage, "prompt_tokens_details", None)
    cached = getattr(details, "cached_tokens", None) or 0
    return usage.prompt_tokens or 0, usage.completion_tokens or 0, cached


def _wire_tool_call(call: ToolCall) -> dict[str, Any]:
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
    }


def _detail(exc: Exception) -> str:
    message = getattr(exc, "message", None) or str(exc)
    return str(message)[:200]
