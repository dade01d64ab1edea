"""The Redis cache, which keeps answering (from an in-process fallback) while Redis is away.

Any Redis error is logged once per outage, turns the lookup into a fallback lookup and the write
into a fallback write, and makes ``health()`` report the cache as degraded. Redis is tried again
``retry_after_s`` seconds later, so an outage costs one timeout per window, not one per call.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import redis

from core.cache.base import CachedAnswer, CacheHealth, ResponseCache, encode_answer
from core.cache.memory import MemoryCache
from core.errors import CacheError, SettingsError
from core.settings import redact_url

log = logging.getLogger(__name__)

T = TypeVar("T")
DEFAULT_PREFIX = "so:cache:"
RETRY_AFTER_S = 30.0
SOCKET_TIMEOUT_S = 0.5


class _Unavailable(Exception):
    """Redis is down (now, or within the retry window)."""


class RedisCache(ResponseCache):
    """Answers in Redis under ``prefix`` + key, with ``SET … EX`` expiry."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        location: str,
        prefix: str = DEFAULT_PREFIX,
        fallback: MemoryCache | None = None,
        clock: Callable[[], float] = time.monotonic,
        retry_after_s: float = RETRY_AFTER_S,
    ) -> None:
        super().__init__()
        self._client = client
        self._location = location
        self._prefix = prefix
        self._fallback = fallback or MemoryCache(clock=clock)
        self._clock = clock
        self._retry_after_s = retry_after_s
        self._state_lock = threading.Lock()
        self._down_until: float | None = None
        self._last_error = ""

    @classmethod
    def from_url(cls, url: str, **options: Any) -> RedisCache:
        """A cache on the Redis at ``url`` with short socket timeouts (no connection yet).

        Raises ``SettingsError`` naming ``REDIS_URL`` when redis-py cannot read the URL.
        """
        try:
            client = redis.Redis.from_url(
                url, socket_connect_timeout=SOCKET_TIMEOUT_S, socket_timeout=SOCKET_TIMEOUT_S
            )
        except ValueError as exc:
            raise SettingsError(
                f"REDIS_URL is not valid: {redact_url(url)!r} cannot be read "
                f"({str(exc).rstrip('.')})."
            ) from exc
        return cls(client, location=redact_url(url), **options)

    def put(self, key: str, answer: Mapping[str, Any], ttl_seconds: float) -> None:
        """Store in Redis with expiry, or in the fallback while Redis is down."""
        text = encode_answer(answer)
        ttl_ms = max(1, round(ttl_seconds * 1000))
        try:
            self._call(lambda: self._client.set(self._prefix + key, text, px=ttl_ms))
        except _Unavailable:
            self._fallback.put(key, answer, ttl_seconds)

    def clear(self) -> int:
        """Delete every key under this cache's prefix (and the fallback's answers)."""
        dropped = self._fallback.clear()
        try:
            keys = self._call(lambda: list(self._client.scan_iter(match=self._prefix + "*")))
            if keys:
                dropped += int(self._call(lambda: self._client.delete(*keys)))
        except _Unavailable as exc:
            raise CacheError(
                f"Redis at {self._location} did not answer, so its cached answers were not "
                "cleared; start Redis and try again."
            ) from exc
        return dropped

    def health(self) -> CacheHealth:
        """Pings Redis (unless inside a retry window) and reports whether it answers."""
        try:
            self._call(self._client.ping)
            healthy, detail = True, f"Redis at {self._location}"
        except _Unavailable:
            healthy = False
            detail = (
                f"Redis at {self._location} does not answer ({self._last_error}); answers are "
                "cached in this process meanwhile. Start Redis or unset REDIS_URL."
            )
        hits, misses = self._counts()
        return CacheHealth("redis", healthy, detail, hits, misses)

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def _lookup(self, key: str) -> CachedAnswer | None:
        try:
            raw = self._call(lambda: self._client.get(self._prefix + key))
        except _Unavailable:
            return self._fallback.get(key)
        if raw is None:
            return None
        try:
            answer: CachedAnswer = json.loads(raw)
        except ValueError:
            log.warning("cache entry %s is not JSON; treating it as a miss", key[:12])
            return None
        return answer

    def _call(self, action: Callable[[], T]) -> T:
        with self._state_lock:
            if self._down_until is not None and self._clock() < self._down_until:
                raise _Unavailable
        try:
            result = action()
        except redis.RedisError as exc:
            self._mark_down(exc)
            raise _Unavailable from exc
        self._mark_up()
        return result

    def _mark_down(self, exc: redis.RedisError) -> None:
        with self._state_lock:
            if self._down_until is None:
                log.warning(
                    "Redis cache at %s failed (%s); using the in-process cache for %.0f s",
                    self._location,
                    exc,
                    self._retry_after_s,
                )
            self._down_until = self._clock() + self._retry_after_s
            self._last_error = str(exc) or type(exc).__name__

    def _mark_up(self) -> None:
        with self._state_lock:
            if self._down_until is not None:
                log.info("Redis cache at %s answers again", self._location)
            self._down_until = None
            self._last_error = ""
