"""The simulator's wire-neutral view of a chat request and of the reply it composes.

The wire modules parse OpenAI and Anthropic bodies into a ``SimRequest`` and render a ``Reply``
back; everything between (composer, intents, structured output) sees only these types.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Provider(StrEnum):
    OPENAI = "openai"
    AZURE = "azure"
    ANTHROPIC = "anthropic"


class Role(StrEnum):
    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"


@dataclass(frozen=True)
class ToolDef:
    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class ToolUse:
    """A tool call the assistant made (or will make), with parsed arguments."""

    id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class Turn:
    """One message of the conversation. Tool results are ``Role.TOOL`` turns."""

    role: Role
    text: str
    tool_uses: tuple[ToolUse, ...] = ()
    tool_use_id: str | None = None
    tool_name: str | None = None


@dataclass(frozen=True)
class SimRequest:
    provider: Provider
    model: str
    system: str
    turns: tuple[Turn, ...]
    tools: tuple[ToolDef, ...] = ()
    forced_tool: str | None = None
    json_schema: dict[str, Any] | None = None
    json_mode: bool = False
    stream: bool = False
    include_usage: bool = False
    max_tokens: int | None = None

    @property
    def wants_json(self) -> bool:
        """JSON mode or a structured-output schema was asked for."""
        return self.json_mode or self.json_schema is not None

    def last_user_text(self) -> str:
        """The latest user message, or an empty string."""
        for turn in reversed(self.turns):
            if turn.role is Role.USER and turn.text.strip():
                return turn.text
        return ""

    def tool_results(self) -> list[tuple[str, str]]:
        """(tool name, result text) for every tool result after the last user message."""
        names = {use.id: use.name for turn in self.turns for use in turn.tool_uses}
        results: list[tuple[str, str]] = []
        for turn in reversed(self.turns):
            if turn.role is Role.USER:
                break
            if turn.role is Role.TOOL:
                name = turn.tool_name or names.get(turn.tool_use_id or "", "")
                results.append((name, turn.text))
        return list(reversed(results))


@dataclass(frozen=True)
class Reply:
    """What the simulated model says: text, tool calls, or both."""

    text: str = ""
    tool_uses: tuple[ToolUse, ...] = ()
    truncated: bool = False

    @property
    def finish_reason(self) -> str:
        """OpenAI's finish reason; the Anthropic wire maps it to a stop reason."""
        if self.tool_uses:
            return "tool_calls"
        return "length" if self.truncated else "stop"
