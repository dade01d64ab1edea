"""Per-user message limits: a token bucket per user, in Redis when ``REDIS_URL`` is set.

    limiter = create_rate_limiter(settings, engine)
    decision = limiter.acquire(user_id)     # RateDecision(allowed, retry_after_s, remaining)
    if not decision.allowed:
        show(limiter.friendly_message(decision))   # the hit is already recorded
    list_rate_limit_hits(engine, since)     # RateLimitHit rows, newest first

Limits come from ``engine.rate_limit_per_minute`` and ``engine.rate_limit_burst``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import redis
from sqlalchemy import Engine

from core.ratelimit.buckets import (
    MemoryBuckets,
    RateDecision,
    RatePolicy,
    RedisBuckets,
)
from core.ratelimit.limiter import RateLimiter, friendly_message, list_rate_limit_hits
from core.settings import Settings

SOCKET_TIMEOUT_S = 0.5


def create_rate_limiter(
    settings: Settings,
    engine: Engine | None,
    *,
    clock: Callable[[], float] = time.monotonic,
    redis_clock: Callable[[], float] = time.time,
) -> RateLimiter:
    """The limiter from settings: Redis buckets when a URL is set (in-process while it is
    down), in-process buckets otherwise. Refusals are recorded in ``engine``."""
    policy = RatePolicy(settings.engine.rate_limit_per_minute, settings.engine.rate_limit_burst)
    url = settings.cache.redis_url
    shared = None
    if url is not None:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=SOCKET_TIMEOUT_S, socket_timeout=SOCKET_TIMEOUT_S
        )
        shared = RedisBuckets(client, policy, clock=redis_clock)
    return RateLimiter(policy, engine=engine, redis_buckets=shared, clock=clock)


__all__ = [
    "MemoryBuckets",
    "RateDecision",
    "RateLimiter",
    "RatePolicy",
    "RedisBuckets",
    "create_rate_limiter",
    "friendly_message",
    "list_rate_limit_hits",
]
