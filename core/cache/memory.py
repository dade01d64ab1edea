"""The in-process cache: a bounded LRU of answers with per-entry expiry, safe across threads."""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from core.cache.base import CachedAnswer, CacheHealth, ResponseCache, encode_answer

DEFAULT_MAX_ENTRIES = 2_000


class MemoryCache(ResponseCache):
    """Up to ``max_entries`` answers; the least recently used goes first when full.

    ``clock`` returns seconds (``time.monotonic`` by default); tests pass a fake one.
    """

    def __init__(
        self,
        *,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        super().__init__()
        self._max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[float, str]] = OrderedDict()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def put(self, key: str, answer: Mapping[str, Any], ttl_seconds: float) -> None:
        """Keep ``answer`` for ``ttl_seconds``, evicting the least recently used when full."""
        text = encode_answer(answer)
        expires_at = self._clock() + ttl_seconds
        with self._lock:
            self._entries[key] = (expires_at, text)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> int:
        """Forget every answer."""
        with self._lock:
            dropped = len(self._entries)
            self._entries.clear()
        return dropped

    def health(self) -> CacheHealth:
        """Always healthy; the detail gives the fill level."""
        hits, misses = self._counts()
        detail = f"{len(self)} of {self._max_entries} answers held in this process"
        return CacheHealth("in-process", True, detail, hits, misses)

    def close(self) -> None:
        """Nothing to release in-process; answers stay until they expire."""

    def _lookup(self, key: str) -> CachedAnswer | None:
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires_at, text = entry
            if now >= expires_at:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
        answer: CachedAnswer = json.loads(text)
        return answer
