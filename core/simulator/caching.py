"""Prompt caching as the providers bill it, so cached-token charts have something to show.

OpenAI caches automatically: a prompt of 1,024 tokens or more whose leading messages were sent
before reports that prefix (in 128-token steps) as ``cached_tokens``. Anthropic caches up to the
last ``cache_control`` breakpoint (tools, then system, then messages): the first time as
``cache_creation_input_tokens``, afterwards as ``cache_read_input_tokens``; either way those
tokens are not part of ``input_tokens``.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.simulator import anthropic_wire
from core.tokens import count_message_tokens

MIN_CACHED_TOKENS = 1024
OPENAI_STEP = 128


@dataclass(frozen=True)
class CacheUse:
    """Tokens read from the cache and tokens written to it by one request."""

    read: int = 0
    created: int = 0


class PromptCache:
    """The prompt prefixes one simulator has seen, per model. Thread-safe."""

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def openai_use(self, model: str, body: Mapping[str, Any]) -> CacheUse:
        """The cached part of an OpenAI prompt; every prefix is remembered for later calls."""
        messages = list(body.get("messages", []))
        keys = _prefix_keys(model, body.get("tools"), messages)
        with self._lock:
            hits = [length for length, key in enumerate(keys, start=1) if key in self._seen]
            self._seen.update(keys)
        if not hits:
            return CacheUse()
        prefix_tokens = count_message_tokens(messages[: max(hits)], model)
        if prefix_tokens < MIN_CACHED_TOKENS:
            return CacheUse()
        return CacheUse(read=prefix_tokens // OPENAI_STEP * OPENAI_STEP)

    def anthropic_use(self, model: str, body: Mapping[str, Any]) -> CacheUse:
        """Tokens up to the last ``cache_control`` breakpoint, read or written."""
        prefix = _anthropic_prefix(body)
        if prefix is None:
            return CacheUse()
        tokens = anthropic_wire.input_tokens(prefix, model)
        if tokens < MIN_CACHED_TOKENS:
            return CacheUse()
        key = _digest(model, prefix)
        with self._lock:
            seen = key in self._seen
            self._seen.add(key)
        return CacheUse(read=tokens) if seen else CacheUse(created=tokens)


def _prefix_keys(model: str, tools: Any, messages: list[Any]) -> list[str]:
    running = hashlib.sha256(f"{model}|{_canonical(tools)}".encode())
    keys = []
    for message in messages:
        running.update(_canonical(message).encode())
        keys.append(running.copy().hexdigest())
    return keys


def _anthropic_prefix(body: Mapping[str, Any]) -> dict[str, Any] | None:
    tools = list(body.get("tools") or [])
    system = body.get("system")
    system_blocks = system if isinstance(system, list) else []
    messages = list(body.get("messages", []))
    prefix: dict[str, Any] | None = None
    for index, tool in enumerate(tools):
        if "cache_control" in tool:
            prefix = {"tools": tools[: index + 1], "messages": []}
    for index, block in enumerate(system_blocks):
        if "cache_control" in block:
            prefix = {"tools": tools, "system": system_blocks[: index + 1], "messages": []}
    for position, message in enumerate(messages):
        content = message.get("content")
        blocks = content if isinstance(content, list) else []
        for index, block in enumerate(blocks):
            if isinstance(block, Mapping) and "cache_control" in block:
                last = {**message, "content": blocks[: index + 1]}
                earlier = messages[:position]
                prefix = {"tools": tools, "system": system, "messages": [*earlier, last]}
    return prefix


def _digest(model: str, value: Any) -> str:
    return hashlib.sha256(f"{model}|{_canonical(value)}".encode()).hexdigest()


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
