"""The per-user message limit the conversation engine asks before each turn.

Buckets live in Redis when ``REDIS_URL`` is set, so every app process shares them; while Redis
does not answer, this process limits on its own (logged once per outage) and tries Redis again
after ``retry_after_s``. Every refusal is stored as a ``RateLimitHit`` row for the admin page.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from datetime import datetime

import redis
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from core.db.models import RateLimitHit, utcnow
from core.ratelimit.buckets import MemoryBuckets, RateDecision, RatePolicy, RedisBuckets

log = logging.getLogger(__name__)

RETRY_AFTER_S = 30.0


def friendly_message(decision: RateDecision) -> str:
    """What a refused customer reads: slow down, and for how long."""
    return (
        "You're sending messages faster than I can keep up with. Please wait "
        f"{_wait_text(decision.retry_after_s)} and send it again — nothing you wrote is lost."
    )


class RateLimiter:
    """``acquire(user_id)`` before each customer message; refusals are recorded in ``engine``."""

    def __init__(
        self,
        policy: RatePolicy,
        *,
        engine: Engine | None,
        redis_buckets: RedisBuckets | None = None,
        memory: MemoryBuckets | None = None,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = utcnow,
        retry_after_s: float = RETRY_AFTER_S,
    ) -> None:
        self.policy = policy
        self._engine = engine
        self._redis = redis_buckets
        self._memory = memory or MemoryBuckets(policy, clock=clock)
        self._clock = clock
        self._now = now
        self._retry_after_s = retry_after_s
        self._lock = threading.Lock()
        self._redis_down_until: float | None = None

    @property
    def backend(self) -> str:
        """``redis``, ``in-process`` or ``in-process (Redis down)`` — for the status page."""
        if self._redis is None:
            return "in-process"
        with self._lock:
            return "redis" if self._redis_down_until is None else "in-process (Redis down)"

    def acquire(self, user_id: int) -> RateDecision:
        """Take one message from ``user_id``'s allowance; a refusal is recorded."""
        decision = self._take(user_id)
        if not decision.allowed:
            self._record(user_id, decision)
        return decision

    def friendly_message(self, decision: RateDecision) -> str:
        """What a refused customer reads (see ``friendly_message``)."""
        return friendly_message(decision)

    def close(self) -> None:
        """Close the Redis connection pool, if any."""
        if self._redis is not None:
            self._redis.close()

    def _take(self, user_id: int) -> RateDecision:
        if self._redis is None or self._in_outage():
            return self._memory.take(user_id)
        try:
            decision = self._redis.take(user_id)
        except redis.RedisError as exc:
            self._mark_down(exc)
            return self._memory.take(user_id)
        self._mark_up()
        return decision

    def _in_outage(self) -> bool:
        with self._lock:
            return self._redis_down_until is not None and self._clock() < self._redis_down_until

    def _mark_down(self, exc: redis.RedisError) -> None:
        with self._lock:
            if self._redis_down_until is None:
                log.warning(
                    "Redis rate limiting failed (%s); limiting in this process for %.0f s",
                    exc,
                    self._retry_after_s,
                )
            self._redis_down_until = self._clock() + self._retry_after_s

    def _mark_up(self) -> None:
        with self._lock:
            if self._redis_down_until is not None:
                log.info("Redis rate limiting answers again")
            self._redis_down_until = None

    def _record(self, user_id: int, decision: RateDecision) -> None:
        if self._engine is None:
            return
        hit = RateLimitHit(
            user_id=user_id, retry_after_s=round(decision.retry_after_s, 3), created_at=self._now()
        )
        try:
            with Session(self._engine) as session:
                session.add(hit)
                session.commit()
        except SQLAlchemyError as exc:
            log.warning("could not record a rate-limit hit for user %s: %s", user_id, exc)


def list_rate_limit_hits(
    engine: Engine, since: datetime, *, user_id: int | None = None, limit: int = 500
) -> list[RateLimitHit]:
    """Refusals since ``since``, newest first (optionally for one user)."""
    statement = select(RateLimitHit).where(col(RateLimitHit.created_at) >= since)
    if user_id is not None:
        statement = statement.where(RateLimitHit.user_id == user_id)
    statement = statement.order_by(col(RateLimitHit.created_at).desc()).limit(limit)
    with Session(engine) as session:
        return list(session.exec(statement))


def _wait_text(seconds: float) -> str:
    whole = max(1, math.ceil(seconds))
    if whole < 60:
        return f"{whole} second{'s' if whole != 1 else ''}"
    minutes = math.ceil(whole / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
