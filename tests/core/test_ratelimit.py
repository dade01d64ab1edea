"""Per-user rate limits: token-bucket math on both backends, refusals recorded, Redis optional."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis
from sqlalchemy import Engine
from sqlmodel import Session

from core.db import create_db_engine, init_schema
from core.db.models import User
from core.ratelimit import (
    MemoryBuckets,
    RateDecision,
    RateLimiter,
    RatePolicy,
    RedisBuckets,
    create_rate_limiter,
    friendly_message,
    list_rate_limit_hits,
)
from core.settings import CacheSettings, EngineSettings, Settings

POLICY = RatePolicy(per_minute=6, burst=3)
"""One message every 10 seconds, three at once."""
UNREACHABLE = "redis://127.0.0.1:1/0"


class FakeClock:
    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


Buckets = MemoryBuckets | RedisBuckets


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def buckets(request: pytest.FixtureRequest) -> Iterator[tuple[Buckets, FakeClock]]:
    """Buckets of ``POLICY`` on each backend, with a fake clock."""
    clock = FakeClock()
    if request.param == "memory":
        yield MemoryBuckets(POLICY, clock=clock), clock
        return
    url: str = request.getfixturevalue("redis_url")
    prefix = f"test:{uuid.uuid4().hex}:"
    client = redis.Redis.from_url(url)
    yield RedisBuckets(client, POLICY, prefix=prefix, clock=clock), clock
    for key in client.scan_iter(match=prefix + "*"):
        client.delete(key)
    client.close()


@pytest.fixture
def db(database_url: str) -> Iterator[tuple[Engine, int]]:
    """An empty app database with one customer; yields (engine, user id)."""
    engine = create_db_engine(database_url)
    init_schema(engine)
    with Session(engine) as session:
        user = User(name="Ada Park", email="ada@example.com")
        session.add(user)
        session.commit()
        user_id = user.id or 0
    yield engine, user_id
    engine.dispose()


def test_burst_then_one_message_per_refill_interval(buckets: tuple[Buckets, FakeClock]) -> None:
    bucket, clock = buckets

    burst = [bucket.take(7) for _ in range(3)]
    refused = bucket.take(7)
    clock.now += 5
    still_refused = bucket.take(7)
    clock.now += 5
    allowed_again = bucket.take(7)

    assert [d.allowed for d in burst] == [True, True, True]
    assert [d.remaining for d in burst] == [2, 1, 0]
    assert not refused.allowed and refused.retry_after_s == pytest.approx(10)
    assert not still_refused.allowed and still_refused.retry_after_s == pytest.approx(5)
    assert allowed_again.allowed and allowed_again.remaining == 0


def test_idle_bucket_refills_only_up_to_the_burst(buckets: tuple[Buckets, FakeClock]) -> None:
    bucket, clock = buckets
    for _ in range(3):
        bucket.take(7)

    clock.now += 3600
    decisions = [bucket.take(7) for _ in range(4)]

    assert [d.allowed for d in decisions] == [True, True, True, False]


def test_each_user_has_their_own_bucket(buckets: tuple[Buckets, FakeClock]) -> None:
    bucket, _ = buckets
    for _ in range(3):
        bucket.take(1)

    assert not bucket.take(1).allowed
    assert bucket.take(2).allowed


@pytest.mark.redis
def test_redis_bucket_is_atomic_under_concurrent_messages(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    prefix = f"test:{uuid.uuid4().hex}:"
    bucket = RedisBuckets(client, RatePolicy(per_minute=1, burst=10), prefix=prefix)
    results: list[bool] = []

    def send() -> None:
        results.extend(bucket.take(99).allowed for _ in range(5))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    client.delete(f"{prefix}99")
    client.close()

    assert results.count(True) == 10 and len(results) == 40


def test_refusal_is_recorded_and_listed_for_admins(db: tuple[Engine, int]) -> None:
    engine, user_id = db
    moment = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    limiter = RateLimiter(POLICY, engine=engine, clock=FakeClock(), now=lambda: moment)

    decisions = [limiter.acquire(user_id) for _ in range(5)]

    hits = list_rate_limit_hits(engine, moment - timedelta(minutes=1))
    assert [d.allowed for d in decisions] == [True, True, True, False, False]
    assert [(h.user_id, h.retry_after_s) for h in hits] == [(user_id, 10.0), (user_id, 10.0)]
    assert list_rate_limit_hits(engine, moment + timedelta(seconds=1)) == []
    assert list_rate_limit_hits(engine, moment, user_id=user_id + 1) == []
    assert limiter.policy.describe() == "6 messages a minute, bursts of up to 3"


def test_friendly_message_says_how_long_to_wait() -> None:
    assert "wait 10 seconds" in friendly_message(RateDecision(False, 9.2, 0))
    assert "wait 1 second " in friendly_message(RateDecision(False, 0.2, 0))
    assert "wait 2 minutes" in friendly_message(RateDecision(False, 75, 0))


def test_redis_down_falls_back_to_limiting_in_process(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    client = redis.Redis.from_url(UNREACHABLE, socket_connect_timeout=0.5)
    limiter = RateLimiter(
        POLICY, engine=None, redis_buckets=RedisBuckets(client, POLICY), clock=clock
    )

    with caplog.at_level(logging.WARNING, logger="core.ratelimit.limiter"):
        decisions = [limiter.acquire(3) for _ in range(4)]

    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert limiter.backend == "in-process (Redis down)"
    assert sum("limiting in this process" in r.getMessage() for r in caplog.records) == 1
    limiter.close()


@pytest.mark.redis
def test_create_rate_limiter_uses_redis_when_set(redis_url: str) -> None:
    settings = Settings(
        cache=CacheSettings(redis_url=redis_url),
        engine=EngineSettings(rate_limit_per_minute=60, rate_limit_burst=2),
    )
    user_id = int(uuid.uuid4().int % 1_000_000) + 1_000_000
    limiter = create_rate_limiter(settings, None)

    decisions = [limiter.acquire(user_id) for _ in range(3)]

    assert limiter.backend == "redis"
    assert [d.allowed for d in decisions] == [True, True, False]
    assert create_rate_limiter(Settings(), None).backend == "in-process"
    limiter.close()
