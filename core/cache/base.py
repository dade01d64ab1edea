"""What every response cache offers, and how requests become keys.

A key is the SHA-256 of the request fingerprint (model or route, messages, parameters, tools) as
canonical JSON, so identical requests meet the same answer whatever order their keys came in.
Answers are JSON objects, stored as JSON text on every backend.
"""

from __future__ import annotations

import hashlib
import json
import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

CachedAnswer = dict[str, Any]
"""A cached answer: a JSON object (the engine stores text, model, provider, simulated)."""


def cache_key(fingerprint: Mapping[str, Any]) -> str:
    """Hex SHA-256 of ``fingerprint`` as canonical JSON (sorted keys, no spaces)."""
    canonical = json.dumps(
        fingerprint, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def encode_answer(answer: Mapping[str, Any]) -> str:
    """The answer as the JSON text every backend stores."""
    return json.dumps(answer, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class CacheHealth:
    """What the Home page shows about the cache."""

    backend: str
    """``in-process`` or ``redis``."""
    healthy: bool
    """False while Redis does not answer (answers then go to the in-process fallback)."""
    detail: str
    hits: int
    misses: int

    @property
    def hit_rate(self) -> float | None:
        """Share of lookups answered from the cache; None before the first lookup."""
        total = self.hits + self.misses
        return self.hits / total if total else None


class ResponseCache(ABC):
    """Answers to identical requests, kept for a time-to-live."""

    def __init__(self) -> None:
        self._counts_lock = threading.Lock()
        self._hits = 0
        self._misses = 0

    @staticmethod
    def key_for(fingerprint: Mapping[str, Any]) -> str:
        """The key of a request fingerprint (see ``cache_key``)."""
        return cache_key(fingerprint)

    def get(self, key: str) -> CachedAnswer | None:
        """The answer stored under ``key`` and not yet expired, or None. Never raises for an
        unreachable server: that is a miss."""
        answer = self._lookup(key)
        with self._counts_lock:
            if answer is None:
                self._misses += 1
            else:
                self._hits += 1
        return answer

    @abstractmethod
    def put(self, key: str, answer: Mapping[str, Any], ttl_seconds: float) -> None:
        """Keep ``answer`` under ``key`` for ``ttl_seconds``; an unreachable server skips it."""

    @abstractmethod
    def clear(self) -> int:
        """Forget every answer; returns how many were dropped. Raises ``CacheError`` when the
        server does not answer (the caller asked for it, so it must know)."""

    @abstractmethod
    def health(self) -> CacheHealth:
        """Backend, whether it answers, and hit counts since start."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""

    @abstractmethod
    def _lookup(self, key: str) -> CachedAnswer | None: ...

    def _counts(self) -> tuple[int, int]:
        with self._counts_lock:
            return self._hits, self._misses
