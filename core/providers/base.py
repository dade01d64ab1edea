"""The one small interface every provider adapter speaks: chat, streamed chat and embeddings.

A stream yields ``ChatChunk`` items (text as it arrives) and ends with exactly one
``ChatResponse`` carrying the whole text, tool calls and the provider's own token usage.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from core.providers.catalogue import ProviderName
from core.providers.errors import MalformedResponse

Role = Literal["system", "user", "assistant", "tool"]

DEFAULT_MAX_TOKENS = 1024
"""Used when a request sets no ``max_tokens`` (Anthropic requires one)."""


@dataclass(frozen=True)
class ToolCall:
    """A tool the model asked to run, with its parsed JSON arguments."""

    id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class ToolSpec:
    """A tool offered to the model; ``parameters`` is a JSON schema of its arguments."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class ChatMessage:
    """One message of a conversation. ``tool`` messages answer ``tool_call_id``."""

    role: Role
    content: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None


@dataclass(frozen=True)
class ChatRequest:
    """What to ask a model. ``model`` is a catalogue name (for Azure: a model or deployment).

    ``response_format`` is OpenAI's shape, e.g. ``{"type": "json_schema", "json_schema":
    {"name": ..., "schema": {...}}}`` or ``{"type": "json_object"}``; the Anthropic adapter
    turns a schema into a forced tool call whose input is the answer. ``temperature`` reaches
    OpenAI and Azure only: the Anthropic Messages API of SDK 2.x takes no sampling parameters.
    """

    model: str
    messages: list[ChatMessage]
    tools: list[ToolSpec] = field(default_factory=list)
    response_format: dict[str, Any] | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    stream: bool = False


@dataclass(frozen=True)
class ChatChunk:
    """A piece of streamed text."""

    text: str


@dataclass(frozen=True)
class ChatResponse:
    """A finished answer with the provider's own usage figures.

    ``input_tokens`` includes cached input (GenAI convention); ``model`` is the model the
    provider says answered (for Azure the real model, not the deployment).
    """

    text: str
    tool_calls: list[ToolCall]
    model: str
    provider: ProviderName
    input_tokens: int
    output_tokens: int
    cached_input_tokens: int
    finish_reason: str
    simulated: bool
    cache_creation_input_tokens: int = 0


def parse_tool_call(call_id: str, name: str, arguments: str) -> ToolCall:
    """A tool call from its JSON-encoded arguments; anything but a JSON object raises
    ``MalformedResponse``."""
    try:
        parsed = json.loads(arguments or "{}")
    except json.JSONDecodeError as exc:
        raise MalformedResponse(
            f"The model called {name} with arguments that are not JSON; try again."
        ) from exc
    if not isinstance(parsed, dict):
        raise MalformedResponse(f"The model called {name} with arguments that are not an object.")
    return ToolCall(call_id, name, parsed)


@dataclass(frozen=True)
class EmbeddingResult:
    """One vector per input text, in order, and the tokens billed."""

    vectors: list[list[float]]
    input_tokens: int


StreamItem = ChatChunk | ChatResponse


@runtime_checkable
class ChatProvider(Protocol):
    """An adapter over one provider's official SDK. Errors are ``core.providers.errors`` types."""

    name: ProviderName
    simulated: bool

    def serves(self, model: str) -> bool:
        """True when this provider can answer ``model``."""
        ...

    def chat(self, request: ChatRequest) -> ChatResponse:
        """One complete answer."""
        ...

    def stream(self, request: ChatRequest) -> Iterator[StreamItem]:
        """Text chunks as they arrive, then one ``ChatResponse``."""
        ...

    def embed(self, texts: Sequence[str], model: str) -> EmbeddingResult:
        """Vectors for ``texts`` from an embedding model."""
        ...

    async def achat(self, request: ChatRequest) -> ChatResponse:
        """``chat`` on the async client."""
        ...

    def astream(self, request: ChatRequest) -> AsyncIterator[StreamItem]:
        """``stream`` on the async client."""
        ...
