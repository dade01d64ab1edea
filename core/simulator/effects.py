"""What content faults do to a reply or to the bytes on the wire."""

from __future__ import annotations

import json
from dataclasses import replace

from core.simulator.faults import FaultKind
from core.simulator.messages import Reply, SimRequest, ToolUse
from core.simulator.structured import missing_required, schema_from_instructions
from core.simulator.wire import Chunk, WireResponse

_ENVELOPE_KEYS = ("choices", "content", "delta", "content_block")


def affects_content(kind: FaultKind, request: SimRequest, reply: Reply) -> bool:
    """True when the fault breaks the assistant's JSON rather than the HTTP body."""
    if kind is FaultKind.MALFORMED_JSON:
        return request.wants_json and not reply.tool_uses
    return kind is FaultKind.SCHEMA_VIOLATION and (request.wants_json or bool(reply.tool_uses))


def break_content(kind: FaultKind, request: SimRequest, reply: Reply) -> Reply:
    """The reply with broken JSON (malformed) or JSON / tool arguments missing required
    fields (violation)."""
    if reply.tool_uses:
        return replace(reply, tool_uses=tuple(_drop_required(request, u) for u in reply.tool_uses))
    if kind is FaultKind.MALFORMED_JSON:
        return replace(reply, text=_truncate_json(reply.text))
    schema = request.json_schema or schema_from_instructions(request.system) or {}
    try:
        value = json.loads(reply.text)
    except ValueError:
        return reply
    return replace(reply, text=json.dumps(missing_required(schema, value), ensure_ascii=False))


def break_envelope(kind: FaultKind, response: WireResponse) -> WireResponse:
    """A 200 whose body is cut short (malformed) or lacks the answer's fields (violation)."""
    if kind is FaultKind.MALFORMED_JSON:
        return replace(response, chunks=_cut(response.chunks))
    return replace(response, chunks=tuple(_without_envelope(chunk) for chunk in response.chunks))


def _drop_required(request: SimRequest, use: ToolUse) -> ToolUse:
    tool = next((tool for tool in request.tools if tool.name == use.name), None)
    return replace(use, arguments=missing_required(tool.parameters if tool else {}, use.arguments))


def _truncate_json(text: str) -> str:
    cut = max(1, len(text) * 2 // 3)
    return text[:cut].rstrip("}] ") + ', "'


def _cut(chunks: tuple[Chunk, ...]) -> tuple[Chunk, ...]:
    if len(chunks) == 1:
        data = chunks[0].data
        return (Chunk(data[: len(data) // 2], chunks[0].tokens),)
    broken = Chunk(b'data: {"id": "broken", "choices": [{"delta": {"content": "\n\n')
    return (*chunks[:2], broken, *chunks[2:])


def _without_envelope(chunk: Chunk) -> Chunk:
    lines = [_strip_line(line) for line in chunk.data.decode().split("\n")]
    return Chunk("\n".join(lines).encode(), chunk.tokens)


def _strip_line(line: str) -> str:
    prefix = "data: " if line.startswith("data: ") else ""
    payload = line[len(prefix) :]
    if not payload.startswith("{"):
        return line
    value = json.loads(payload)
    for key in _ENVELOPE_KEYS:
        value.pop(key, None)
    return prefix + json.dumps(value)
