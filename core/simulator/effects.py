"""What faults do to a reply or to the bytes on the wire.

The byte-level effects (``cut_json``, ``BROKEN_EVENT``, ``strip_envelope``, ``CutStream``,
``error_answer``) serve both the simulator and the transport that injects faults in front of
a real provider (``core.providers.fault_injection``), so a fault looks the same to the SDK
either way.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from dataclasses import replace

import httpx2

from core.faults import Fault, FaultKind
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
        return replace(reply, text=truncate_json(reply.text))
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


def truncate_json(text: str) -> str:
    """``text`` (JSON) cut two thirds of the way and left open, so it does not parse."""
    cut = max(1, len(text) * 2 // 3)
    return text[:cut].rstrip("}] ") + ', "'


def _cut(chunks: tuple[Chunk, ...]) -> tuple[Chunk, ...]:
    if len(chunks) == 1:
        return (Chunk(cut_json(chunks[0].data), chunks[0].tokens),)
    return (*chunks[:BROKEN_AFTER], Chunk(BROKEN_EVENT), *chunks[BROKEN_AFTER:])


def _without_envelope(chunk: Chunk) -> Chunk:
    return Chunk(strip_envelope(chunk.data), chunk.tokens)


BROKEN_EVENT = b'data: {"id": "broken", "choices": [{"delta": {"content": "\n\n'
"""A server-sent event whose JSON never closes: a malformed stream carries it after
``BROKEN_AFTER`` events."""
BROKEN_AFTER = 2
CUT_MESSAGE = "peer closed connection without sending complete message body (injected stream_cut)"


def cut_json(data: bytes) -> bytes:
    """A JSON body cut in half."""
    return data[: len(data) // 2]


def strip_envelope(data: bytes) -> bytes:
    """A JSON body or server-sent events without the fields that carry the answer."""
    return "\n".join(_strip_line(line) for line in data.decode().split("\n")).encode()


def error_answer(fault: Fault, model: str) -> tuple[int, str, dict[str, str]]:
    """Status, message and headers of the error a RATE_LIMIT or SERVER_ERROR fault answers
    with: 429 with ``retry-after`` (seconds) and ``retry-after-ms`` as OpenAI and Anthropic send
    them, or the fault's 5xx."""
    if fault.kind is FaultKind.RATE_LIMIT:
        retry = fault.retry_after_s
        headers = {"retry-after": f"{retry:g}", "retry-after-ms": str(int(retry * 1000))}
        return 429, f"Rate limit reached for {model}. Please try again later.", headers
    return fault.status_code, "The server had an error processing your request.", {}


class CutStream(httpx2.SyncByteStream, httpx2.AsyncByteStream):
    """A response body that drops the connection midway: it passes on the first ``keep``
    server-sent events of ``inner`` (a JSON body: half its bytes), then raises
    ``httpx2.RemoteProtocolError`` as httpx does when a server closes mid-body. When ``inner``
    ends sooner, its last event is held back, so the answer never completes. ``upstream`` is
    the response ``inner`` reads, closed with this stream."""

    def __init__(
        self,
        inner: Iterable[bytes] | AsyncIterable[bytes],
        keep: int,
        request: httpx2.Request,
        *,
        events: bool = True,
        upstream: httpx2.Response | None = None,
    ) -> None:
        self._inner = inner
        self._keep = keep
        self._request = request
        self._events = events
        self._upstream = upstream

    def close(self) -> None:
        """Close the upstream response whose body this cuts, if any."""
        if self._upstream is not None:
            self._upstream.close()

    async def aclose(self) -> None:
        """``close`` for async clients."""
        if self._upstream is not None:
            await self._upstream.aclose()

    def __iter__(self) -> Iterator[bytes]:
        if not isinstance(self._inner, Iterable):
            raise TypeError("CutStream over an async body was iterated synchronously.")
        if not self._events:
            yield cut_json(b"".join(self._inner))
            raise self._dropped()
        sent = 0
        held: bytes | None = None
        for event in _split_events(self._inner):
            if held is not None:
                yield held
                sent += 1
                if sent >= self._keep:
                    break
            held = event
        raise self._dropped()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if not isinstance(self._inner, AsyncIterable):
            for part in self.__iter__():
                yield part
            return
        if not self._events:
            yield cut_json(b"".join([part async for part in self._inner]))
            raise self._dropped()
        sent = 0
        held: bytes | None = None
        buffer = b""
        async for part in self._inner:
            buffer += part
            while (end := buffer.find(b"\n\n")) >= 0:
                event, buffer = buffer[: end + 2], buffer[end + 2 :]
                if held is not None:
                    yield held
                    sent += 1
                    if sent >= self._keep:
                        raise self._dropped()
                held = event
        raise self._dropped()

    def _dropped(self) -> httpx2.RemoteProtocolError:
        return httpx2.RemoteProtocolError(CUT_MESSAGE, request=self._request)


def _split_events(parts: Iterable[bytes]) -> Iterator[bytes]:
    """Whole server-sent events (each ending in a blank line) from arbitrary byte parts."""
    buffer = b""
    for part in parts:
        buffer += part
        while (end := buffer.find(b"\n\n")) >= 0:
            yield buffer[: end + 2]
            buffer = buffer[end + 2 :]
    if buffer:
        yield buffer


def _strip_line(line: str) -> str:
    prefix = "data: " if line.startswith("data: ") else ""
    payload = line[len(prefix) :]
    if not payload.startswith("{"):
        return line
    value = json.loads(payload)
    for key in _ENVELOPE_KEYS:
        value.pop(key, None)
    return prefix + json.dumps(value)
