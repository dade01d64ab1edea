"""Answers to identical requests, from Redis when ``REDIS_URL`` is set, in-process otherwise.

    cache = create_cache(settings)
    key = cache.key_for({"model": ..., "messages": ..., "temperature": ...})
    answer = cache.get(key)            # dict or None; never raises for an unreachable Redis
    cache.put(key, {"text": ...}, settings.cache.ttl_seconds)
    cache.health()                     # CacheHealth(backend, healthy, detail, hits, misses)

Only answers built without tools that read changing data or change something may be cached:
ask ``ToolRegistry.is_cacheable(tool_calls_made)`` first, and key on the customer too (the
engine's ``core.conversation.answer_cache`` does both).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from core.cache.base import CachedAnswer, CacheHealth, ResponseCache, cache_key
from core.cache.memory import MemoryCache
from core.cache.redis_cache import RedisCache
from core.settings import Settings


def create_cache(
    settings: Settings, *, clock: Callable[[], float] = time.monotonic
) -> ResponseCache:
    """Redis at ``settings.cache.redis_url`` (falling back in-process while it is down), or an
    in-process cache when no URL is set."""
    url = settings.cache.redis_url
    if url is None:
        return MemoryCache(clock=clock)
    return RedisCache.from_url(url, clock=clock)


__all__ = [
    "CacheHealth",
    "CachedAnswer",
    "MemoryCache",
    "RedisCache",
    "ResponseCache",
    "cache_key",
    "create_cache",
]
