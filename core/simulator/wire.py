"""What every wire format hands the transport: a status, headers and timed body chunks."""

from __future__ import annotations

import json
import random
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from core.tokens import count_tokens

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_PIECE = re.compile(r"\s*\S+\s*|\s+")


@dataclass(frozen=True)
class Chunk:
    """Bytes sent at once, and how many generated tokens they stand for (for pacing)."""

    data: bytes
    tokens: int = 0


@dataclass(frozen=True)
class WireResponse:
    """A response ready to send. ``streaming`` bodies are sent chunk by chunk."""

    status: int
    chunks: tuple[Chunk, ...]
    headers: dict[str, str] = field(default_factory=dict)
    streaming: bool = False

    @property
    def output_tokens(self) -> int:
        """Generated tokens in the body (what pacing charges time for)."""
        return sum(chunk.tokens for chunk in self.chunks)


def json_response(
    status: int, body: Any, headers: dict[str, str] | None = None, tokens: int = 0
) -> WireResponse:
    """A one-chunk JSON response."""
    data = json.dumps(body, ensure_ascii=False).encode()
    merged = {"content-type": "application/json", **(headers or {})}
    return WireResponse(status, (Chunk(data, tokens),), merged)


def sse_response(chunks: list[Chunk], headers: dict[str, str] | None = None) -> WireResponse:
    """A 200 ``text/event-stream`` response sent chunk by chunk."""
    merged = {"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache"}
    return WireResponse(200, tuple(chunks), {**merged, **(headers or {})}, streaming=True)


def sse_event(payload: Any, event: str | None = None) -> bytes:
    """One server-sent event; ``payload`` is JSON-encoded unless it is already a string."""
    data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    prefix = f"event: {event}\n" if event else ""
    return f"{prefix}data: {data}\n\n".encode()


def text_pieces(text: str, model: str) -> list[tuple[str, int]]:
    """``text`` cut into word-sized stream deltas with their token counts."""
    return [(piece, max(1, count_tokens(piece, model))) for piece in _PIECE.findall(text)]


class IdSource:
    """Reproducible, unique response ids (``chatcmpl-…``, ``msg_…``) for one transport."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(f"ids:{seed}")
        self._lock = threading.Lock()

    def new(self, prefix: str, length: int = 24) -> str:
        """``prefix`` followed by ``length`` random letters and digits."""
        with self._lock:
            return prefix + "".join(self._rng.choice(_ALPHABET) for _ in range(length))
