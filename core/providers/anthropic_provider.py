"""Anthropic messages on the official ``anthropic`` SDK.

System messages become ``system``; tool results become ``tool_result`` blocks in a user turn;
a JSON-schema ``response_format`` becomes a forced tool whose input is the answer (works on every
Claude 3 model), returned as JSON text. Finish reasons use OpenAI's words (``stop``, ``length``,
``tool_calls``). ``input_tokens`` adds cache reads and writes to Anthropic's uncached count.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import anthropic
import httpx2

from core.errors import ProviderError
from core.providers.base import (
    DEFAULT_MAX_TOKENS,
    ChatChunk,
    ChatMessage,
    ChatRequest,
    ChatResponse,
    EmbeddingResult,
    StreamItem,
    parse_tool_call,
)
from core.providers.catalogue import ProviderName, get_model
from core.providers.errors import (
    BadRequest,
    MalformedResponse,
    ProviderTimeout,
    ProviderUnavailable,
    UnknownModel,
    error_for_status,
)

STOP_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
}
JSON_ONLY = "Respond only with a JSON object, without any other text."
SDK_ERRORS = (anthropic.APIError, httpx2.HTTPError, ValueError)


def to_anthropic_messages(messages: Sequence[ChatMessage]) -> tuple[str, list[dict[str, Any]]]:
    """``(system text, messages)``; consecutive turns of one role are merged as Anthropic wants."""
    system = "\n\n".join(m.content for m in messages if m.role == "system")
    wire: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            continue
        role = "assistant" if message.role == "assistant" else "user"
        blocks = _blocks(message)
        if wire and wire[-1]["role"] == role:
            wire[-1]["content"].extend(blocks)
        else:
            wire.append({"role": role, "content": blocks})
    return system, wire


def build_message_params(request: ChatRequest, model_id: str, max_output: int) -> dict[str, Any]:
    """Keyword arguments for ``messages.create`` (without ``stream``)."""
    system, messages = to_anthropic_messages(request.messages)
    params: dict[str, Any] = {
        "model": model_id,
        "messages": messages,
        "max_tokens": min(request.max_tokens or DEFAULT_MAX_TOKENS, max_output),
    }
    tools = [
        {"name": t.name, "description": t.description, "input_schema": t.parameters}
        for t in request.tools
    ]
    answer_tool = json_answer_tool(request.response_format)
    if answer_tool is not None:
        tools.append(answer_tool)
        params["tool_choice"] = {"type": "tool", "name": answer_tool["name"]}
    elif request.response_format is not None:
        system = f"{system}\n\n{JSON_ONLY}".strip()
    if tools:
        params["tools"] = tools
    if system:
        params["system"] = system
    return params


def json_answer_tool(response_format: dict[str, Any] | None) -> dict[str, Any] | None:
    """The forced tool standing in for OpenAI's ``json_schema`` response format, if any."""
    if not response_format or response_format.get("type") != "json_schema":
        return None
    spec = response_format.get("json_schema") or {}
    return {
        "name": str(spec.get("name") or "answer"),
        "description": "Give the answer as this JSON object.",
        "input_schema": spec.get("schema") or {"type": "object"},
    }


@dataclass
class MessageAssembler:
    """Builds one ``ChatResponse`` from a message or from stream events."""

    provider_name: ProviderName
    simulated: bool
    model: str
    answer_tool: str | None
    text: list[str] = field(default_factory=list)
    calls: dict[int, list[str]] = field(default_factory=dict)
    usage: dict[str, int] = field(default_factory=dict)
    stop_reason: str | None = None

    def add_message(self, message: Any) -> None:
        """Take a complete (non-streamed) message."""
        self.model = message.model or self.model
        self._add_usage(message.usage)
        self.stop_reason = message.stop_reason
        for index, block in enumerate(message.content):
            if block.type == "text":
                self.text.append(block.text)
            elif block.type == "tool_use":
                self.calls[index] = [block.id, block.name, json.dumps(block.input)]
        self._answer_as_text()

    def feed(self, event: Any) -> str:
        """Take one stream event; return the text it adds (possibly empty)."""
        if event.type == "message_start":
            self.model = event.message.model or self.model
            self._add_usage(event.message.usage)
        elif event.type == "content_block_start" and event.content_block.type == "tool_use":
            block = event.content_block
            self.calls[event.index] = [block.id, block.name, ""]
        elif event.type == "content_block_delta":
            return self._delta(event.index, event.delta)
        elif event.type == "message_delta":
            self.stop_reason = event.delta.stop_reason or self.stop_reason
            self._add_usage(event.usage)
        return ""

    def finish(self, label: str) -> ChatResponse:
        """The whole answer; one without a stop reason (a stream cut off before its
        ``message_delta``) raises ``MalformedResponse``."""
        if self.stop_reason is None:
            raise MalformedResponse(f"{label} ended its answer before finishing it; try again.")
        self._answer_as_text()
        read = self.usage.get("cache_read_input_tokens", 0)
        written = self.usage.get("cache_creation_input_tokens", 0)
        return ChatResponse(
            text="".join(self.text),
            tool_calls=[parse_tool_call(*self.calls[i]) for i in sorted(self.calls)],
            model=self.model,
            provider=self.provider_name,
            input_tokens=self.usage.get("input_tokens", 0) + read + written,
            output_tokens=self.usage.get("output_tokens", 0),
            cached_input_tokens=read,
            finish_reason=STOP_REASONS.get(self.stop_reason or "", self.stop_reason or "stop"),
            simulated=self.simulated,
            cache_creation_input_tokens=written,
        )

    def _delta(self, index: int, delta: Any) -> str:
        if delta.type == "text_delta":
            self.text.append(delta.text)
            return str(delta.text)
        if delta.type == "input_json_delta" and index in self.calls:
            self.calls[index][2] += delta.partial_json
            return str(delta.partial_json) if self.calls[index][1] == self.answer_tool else ""
        return ""

    def _add_usage(self, usage: Any) -> None:
        for key in (
            "input_tokens",
            "output_tokens",
            "cache_read_input_tokens",
            "cache_creation_input_tokens",
        ):
            value = getattr(usage, key, None)
            if value is not None:
                self.usage[key] = int(value)

    def _answer_as_text(self) -> None:
        for index, (_, name, arguments) in list(self.calls.items()):
            if name == self.answer_tool:
                del self.calls[index]
                self.text = [arguments]
                self.stop_reason = "end_turn"


def map_anthropic_error(exc: Exception, label: str) -> ProviderError:
    """Our error for an exception raised by the ``anthropic`` SDK or its HTTP client."""
    if isinstance(exc, anthropic.APIStatusError):
        detail = str(getattr(exc, "message", None) or exc)[:200]
        return error_for_status(exc.status_code, label, detail, dict(exc.response.headers))
    if isinstance(exc, anthropic.APITimeoutError | httpx2.TimeoutException):
        return ProviderTimeout(f"{label} did not answer in time; try again.")
    if isinstance(exc, anthropic.APIResponseValidationError | ValueError):
        return MalformedResponse(f"{label} answered something unreadable; try again ({exc}).")
    return ProviderUnavailable(f"{label} could not be reached; check the network ({exc}).")


class AnthropicChatProvider:
    """Chat through ``anthropic.Anthropic`` / ``anthropic.AsyncAnthropic``."""

    label = "Anthropic"

    def __init__(
        self,
        client: anthropic.Anthropic,
        async_client: anthropic.AsyncAnthropic | None = None,
        *,
        simulated: bool,
    ) -> None:
        self.client = client
        self.async_client = async_client
        self.simulated = simulated
        self.name: ProviderName = "anthropic"

    def serves(self, model: str) -> bool:
        """True for catalogue models whose provider is Anthropic."""
        try:
            return get_model(model).provider == "anthropic"
        except UnknownModel:
            return False

    def chat(self, request: ChatRequest) -> ChatResponse:
        """One complete answer."""
        params, assembler, label = self._prepare(request)
        try:
            assembler.add_message(self.client.messages.create(**params))
            return assembler.finish(label)
        except SDK_ERRORS as exc:
            raise map_anthropic_error(exc, label) from exc

    def stream(self, request: ChatRequest) -> Iterator[StreamItem]:
        """Text chunks, then the ``ChatResponse`` with usage from ``message_delta``."""
        params, assembler, label = self._prepare(request)
        try:
            with self.client.messages.create(**params, stream=True) as events:
                for event in events:
                    text = assembler.feed(event)
                    if text:
                        yield ChatChunk(text)
            response = assembler.finish(label)
        except SDK_ERRORS as exc:
            raise map_anthropic_error(exc, label) from exc
        yield response

    async def achat(self, request: ChatRequest) -> ChatResponse:
        """``chat`` on the async client."""
        params, assembler, label = self._prepare(request)
        try:
            assembler.add_message(await self._async().messages.create(**params))
            return assembler.finish(label)
        except SDK_ERRORS as exc:
            raise map_anthropic_error(exc, label) from exc

    async def astream(self, request: ChatRequest) -> AsyncIterator[StreamItem]:
        """``stream`` on the async client."""
        params, assembler, label = self._prepare(request)
        try:
            events = await self._async().messages.create(**params, stream=True)
            async with events:
                async for event in events:
                    text = assembler.feed(event)
                    if text:
                        yield ChatChunk(text)
            response = assembler.finish(label)
        except SDK_ERRORS as exc:
            raise map_anthropic_error(exc, label) from exc
        yield response

    def embed(self, texts: Sequence[str], model: str) -> EmbeddingResult:
        """Anthropic offers no embedding models; always raises ``BadRequest``."""
        raise BadRequest(f"Anthropic has no embedding model {model}; use an OpenAI one.")

    def _prepare(self, request: ChatRequest) -> tuple[dict[str, Any], MessageAssembler, str]:
        info = get_model(request.model)
        if info.provider != "anthropic":
            raise UnknownModel(
                f"{request.model} is an {info.provider} model; Claude cannot answer."
            )
        params = build_message_params(request, info.api_id, info.max_output_tokens)
        answer_tool = json_answer_tool(request.response_format)
        name = answer_tool["name"] if answer_tool else None
        assembler = MessageAssembler(self.name, self.simulated, info.api_id, name)
        return params, assembler, f"{self.label} ({request.model})"

    def _async(self) -> anthropic.AsyncAnthropic:
        if self.async_client is None:
            raise ProviderUnavailable(f"{self.label} was set up without an async client.")
        return self.async_client


def _blocks(message: ChatMessage) -> list[dict[str, Any]]:
    if message.role == "tool":
        return [
            {"type": "tool_result", "tool_use_id": message.tool_call_id, "content": message.content}
        ]
    blocks: list[dict[str, Any]] = []
    if message.content:
        blocks.append({"type": "text", "text": message.content})
    blocks += [
        {"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}
        for call in message.tool_calls
    ]
    return blocks
