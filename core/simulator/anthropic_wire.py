"""The Anthropic Messages wire format: messages JSON, SSE events, token counting, errors."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from core.simulator.intents import ANY_TOOL
from core.simulator.messages import Provider, Reply, Role, SimRequest, ToolDef, ToolUse, Turn
from core.simulator.wire import (
    Chunk,
    IdSource,
    WireResponse,
    json_response,
    sse_event,
    sse_response,
    text_pieces,
)
from core.tokens import count_tokens

_STOP_REASONS = {"tool_calls": "tool_use", "length": "max_tokens", "stop": "end_turn"}
_ERROR_TYPES = {
    400: "invalid_request_error",
    404: "not_found_error",
    429: "rate_limit_error",
    529: "overloaded_error",
}
_JSON_ASK = re.compile(
    r"\b(respond|reply|answer)\w*\s+(only\s+)?(in|with|as|using)\s+(valid\s+)?json\b"
    r"|\b(return|output)\s+(only\s+)?(a\s+)?(valid\s+)?json\b|\bjson\s+only\b"
    r"|\bonly\s+(valid\s+)?json\b",
    re.IGNORECASE,
)
_PREAMBLE = "Let me look that up for you."
"""What Claude says before a tool call it chose itself; a forced tool call comes without text."""
MESSAGE_OVERHEAD = 4
"""Tokens added per message for role markers (an approximation; Claude's tokenizer is private)."""


def parse_messages(body: Mapping[str, Any]) -> SimRequest:
    """A Messages API body as the simulator's neutral request."""
    system = _text_of(body.get("system"))
    turns: list[Turn] = []
    for message in body.get("messages", []):
        turns.extend(_turns_of(message))
    tools, forced = _tools(body)
    output_format = body.get("output_format") or {}
    schema = output_format.get("schema") if output_format.get("type") == "json_schema" else None
    last_user = next((t.text for t in reversed(turns) if t.role is Role.USER), "")
    return SimRequest(
        provider=Provider.ANTHROPIC,
        model=str(body.get("model", "")),
        system=system,
        turns=tuple(turns),
        tools=tools,
        forced_tool=forced,
        json_schema=schema,
        json_mode=bool(_JSON_ASK.search(system) or _JSON_ASK.search(last_user[:400])),
        stream=bool(body.get("stream")),
        include_usage=True,
        max_tokens=body.get("max_tokens"),
    )


def input_tokens(body: Mapping[str, Any], model: str) -> int:
    """Input tokens, approximated with cl100k: system, every message, and tool definitions."""
    total = count_tokens(_text_of(body.get("system")), model)
    for message in body.get("messages", []):
        total += MESSAGE_OVERHEAD + count_tokens(json.dumps(message.get("content", "")), model)
    tools = body.get("tools") or []
    return total + (count_tokens(json.dumps(tools), model) if tools else 0)


def render_message(
    request: SimRequest,
    reply: Reply,
    *,
    model: str,
    ids: IdSource,
    input_count: int,
    cache_read: int = 0,
    cache_creation: int = 0,
) -> WireResponse:
    """The message (or SSE event stream) carrying ``reply``."""
    blocks = _blocks(request, reply)
    output = sum(_block_tokens(block, model) for block in blocks)
    usage = {
        "input_tokens": input_count,
        "output_tokens": output,
        "cache_creation_input_tokens": cache_creation,
        "cache_read_input_tokens": cache_read,
    }
    stop_reason = _STOP_REASONS[reply.finish_reason]
    message = {
        "id": ids.new("msg_01", 22),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": blocks,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": usage,
    }
    headers = {"request-id": ids.new("req_01", 22)}
    if request.stream:
        return sse_response(_events(message, model), headers)
    return json_response(200, message, headers, tokens=output)


def render_count(body: Mapping[str, Any], model: str) -> WireResponse:
    """The ``/v1/messages/count_tokens`` answer."""
    return json_response(200, {"input_tokens": input_tokens(body, model)})


def render_error(
    status: int, message: str, ids: IdSource, headers: Mapping[str, str] | None = None
) -> WireResponse:
    """Anthropic's error body for ``status`` (429, 5xx, 529 overloaded, 404, 400)."""
    request_id = ids.new("req_01", 22)
    kind = _ERROR_TYPES.get(status, "api_error")
    body = {"type": "error", "error": {"type": kind, "message": message}, "request_id": request_id}
    return json_response(status, body, {"request-id": request_id, **(headers or {})})


def _events(message: dict[str, Any], model: str) -> list[Chunk]:
    start = {
        **message,
        "content": [],
        "stop_reason": None,
        "usage": {**message["usage"], "output_tokens": 1},
    }
    chunks = [
        Chunk(sse_event({"type": "message_start", "message": start}, "message_start")),
        Chunk(sse_event({"type": "ping"}, "ping")),
    ]
    for index, block in enumerate(message["content"]):
        chunks.extend(_block_events(index, block, model))
    delta = {
        "type": "message_delta",
        "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
        "usage": {"output_tokens": message["usage"]["output_tokens"]},
    }
    chunks.append(Chunk(sse_event(delta, "message_delta")))
    chunks.append(Chunk(sse_event({"type": "message_stop"}, "message_stop")))
    return chunks


def _block_events(index: int, block: dict[str, Any], model: str) -> list[Chunk]:
    opening: dict[str, Any]
    if block["type"] == "text":
        opening, kind, field = {"type": "text", "text": ""}, "text_delta", "text"
        pieces = text_pieces(block["text"], model)
    else:
        opening, kind, field = {**block, "input": {}}, "input_json_delta", "partial_json"
        pieces = text_pieces(json.dumps(block["input"], ensure_ascii=False), model)
    start = {"type": "content_block_start", "index": index, "content_block": opening}
    chunks = [Chunk(sse_event(start, "content_block_start"))]
    for piece, tokens in pieces:
        delta = {
            "type": "content_block_delta",
            "index": index,
            "delta": {"type": kind, field: piece},
        }
        chunks.append(Chunk(sse_event(delta, "content_block_delta"), tokens))
    stop = {"type": "content_block_stop", "index": index}
    chunks.append(Chunk(sse_event(stop, "content_block_stop")))
    return chunks


def _blocks(request: SimRequest, reply: Reply) -> list[dict[str, Any]]:
    chose_tool = bool(reply.tool_uses) and request.forced_tool is None
    text = reply.text or (_PREAMBLE if chose_tool else "")
    blocks: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
    blocks.extend(
        {
            "type": "tool_use",
            "id": f"toolu_01{use.id[:22]}",
            "name": use.name,
            "input": use.arguments,
        }
        for use in reply.tool_uses
    )
    return blocks


def _block_tokens(block: dict[str, Any], model: str) -> int:
    if block["type"] == "text":
        return count_tokens(block["text"], model)
    return count_tokens(block["name"] + json.dumps(block["input"]), model)


def _turns_of(message: Mapping[str, Any]) -> list[Turn]:
    role = Role.ASSISTANT if message.get("role") == "assistant" else Role.USER
    content = message.get("content")
    if isinstance(content, str):
        return [Turn(role, content)]
    turns: list[Turn] = []
    texts: list[str] = []
    uses: list[ToolUse] = []
    for block in content or []:
        kind = block.get("type")
        if kind == "tool_result":
            turns.append(
                Turn(
                    Role.TOOL, _text_of(block.get("content")), tool_use_id=block.get("tool_use_id")
                )
            )
        elif kind == "tool_use":
            uses.append(
                ToolUse(str(block["id"]), str(block["name"]), dict(block.get("input") or {}))
            )
        elif kind == "text":
            texts.append(str(block.get("text", "")))
    if texts or uses:
        turns.append(Turn(role, "\n".join(texts), tuple(uses)))
    return turns


def _tools(body: Mapping[str, Any]) -> tuple[tuple[ToolDef, ...], str | None]:
    choice = body.get("tool_choice") or {}
    if choice.get("type") == "none":
        return (), None
    tools = tuple(
        ToolDef(
            str(tool["name"]),
            str(tool.get("description", "")),
            tool.get("input_schema") or {"type": "object", "properties": {}},
        )
        for tool in body.get("tools") or []
        if "name" in tool and tool.get("type") in (None, "custom")
    )
    if choice.get("type") == "any":
        return tools, ANY_TOOL
    if choice.get("type") == "tool":
        return tools, str(choice.get("name"))
    return tools, None


def _text_of(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "\n".join(str(block.get("text", "")) for block in content if isinstance(block, Mapping))
