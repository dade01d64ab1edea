"""Requests per minute per client, by tier, with the ``limits`` library: a sliding window
counter kept in Redis when a URL is given (shared by every process), in this process otherwise.
A Redis that stops answering is logged and the limits carry on in memory until it is back."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from limits import RateLimitItemPerMinute
from limits.errors import StorageError
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import SlidingWindowCounterRateLimiter

from observability.api.config import Tier
from observability.api.errors import ApiError, ErrorCode

logger = logging.getLogger("observability.api")
REDIS_RETRY_S = 30.0


@dataclass(frozen=True)
class Allowance:
    """What the ``X-RateLimit-*`` headers say after one request."""

    limit: int
    remaining: int
    reset_epoch_s: int
    allowed: bool

    def headers(self) -> dict[str, str]:
        """``X-RateLimit-Limit``, ``-Remaining`` and ``-Reset`` (Unix time, seconds)."""
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_epoch_s),
        }

    def refusal(self) -> ApiError:
        """The 429 for a request over the limit, with ``Retry-After``."""
        wait = max(1, math.ceil(self.reset_epoch_s - time.time()))
        return ApiError(
            429,
            ErrorCode.RATE_LIMITED,
            f"This client made more than {self.limit} requests in a minute; try again in {wait} s.",
            details={"limit_per_minute": self.limit, "retry_after_s": wait},
            headers={"Retry-After": str(wait)},
        )


class ClientRateLimits:
    """One sliding-window limit per client, sized by the client's tier."""

    def __init__(self, tier_limits: dict[Tier, int], redis_url: str | None = None) -> None:
        self._items = {tier: RateLimitItemPerMinute(n) for tier, n in tier_limits.items()}
        self._memory = SlidingWindowCounterRateLimiter(MemoryStorage())
        self._redis: SlidingWindowCounterRateLimiter | None = None
        if redis_url:
            storage: Storage = RedisStorage(redis_url, wrap_exceptions=True)
            self._redis = SlidingWindowCounterRateLimiter(storage)
        self._redis_down_until = 0.0

    def hit(self, client_id: str, tier: Tier) -> Allowance:
        """Count one request by the client and say whether it is within its tier's limit."""
        item = self._items[tier]
        limiter = self._limiter()
        try:
            allowed = limiter.hit(item, "api", client_id)
            stats = limiter.get_window_stats(item, "api", client_id)
        except StorageError as exc:
            logger.warning(
                "rate limits in memory for %.0f s: Redis failed (%s)", REDIS_RETRY_S, exc
            )
            self._redis_down_until = time.monotonic() + REDIS_RETRY_S
            allowed = self._memory.hit(item, "api", client_id)
            stats = self._memory.get_window_stats(item, "api", client_id)
        return Allowance(item.amount, max(0, stats.remaining), math.ceil(stats.reset_time), allowed)

    def _limiter(self) -> SlidingWindowCounterRateLimiter:
        if self._redis is not None and time.monotonic() >= self._redis_down_until:
            return self._redis
        return self._memory
