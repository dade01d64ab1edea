"""Response cache: identical requests meet the same answer until it expires; Redis may vanish."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from core.cache import MemoryCache, RedisCache, cache_key, create_cache
from core.errors import CacheError
from core.settings import CacheSettings, Settings

ANSWER = {"text": "Returns are free within 30 days.", "model": "gpt-4o-mini", "simulated": True}
UNREACHABLE = "redis://127.0.0.1:1/0"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class SwitchableRedis:
    """A real Redis client that can be made to fail like a server that went away."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self.down = False
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.client, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.down:
                raise redis.ConnectionError("Connection refused")
            return attribute(*args, **kwargs)

        return call


@pytest.fixture
def real_redis(redis_url: str) -> Iterator[tuple[RedisCache, FakeClock, SwitchableRedis]]:
    clock = FakeClock()
    switchable = SwitchableRedis(redis.Redis.from_url(redis_url))
    cache = RedisCache(
        switchable,  # type: ignore[arg-type]
        location=redis_url,
        prefix=f"test:{uuid.uuid4().hex}:",
        clock=clock,
        retry_after_s=30,
    )
    yield cache, clock, switchable
    switchable.down = False
    cache.clear()
    switchable.client.close()


def test_key_is_the_same_for_the_same_request_in_any_key_order() -> None:
    one = cache_key({"model": "gpt-4o", "messages": [["user", "hi"]], "temperature": 0.2})
    same = cache_key({"temperature": 0.2, "messages": [["user", "hi"]], "model": "gpt-4o"})
    other = cache_key({"model": "gpt-4o", "messages": [["user", "hi!"]], "temperature": 0.2})

    assert one == same != other
    assert len(one) == 64 and int(one, 16) >= 0


def test_in_process_answer_comes_back_until_its_ttl_ends() -> None:
    clock = FakeClock()
    cache = MemoryCache(clock=clock)
    key = cache.key_for({"q": "returns"})
    cache.put(key, ANSWER, ttl_seconds=60)

    clock.now += 59.9
    before_expiry = cache.get(key)
    clock.now += 0.1
    after_expiry = cache.get(key)

    assert before_expiry == ANSWER
    assert after_expiry is None
    assert len(cache) == 0


def test_changing_a_returned_answer_does_not_change_the_cache() -> None:
    cache = MemoryCache()
    cache.put("k", ANSWER, 60)

    first = cache.get("k")
    assert first is not None
    first["text"] = "changed"

    assert cache.get("k") == ANSWER


def test_least_recently_used_answer_is_evicted_when_full() -> None:
    cache = MemoryCache(max_entries=2)
    cache.put("a", {"text": "a"}, 60)
    cache.put("b", {"text": "b"}, 60)
    cache.get("a")

    cache.put("c", {"text": "c"}, 60)

    assert cache.get("b") is None
    assert cache.get("a") == {"text": "a"} and cache.get("c") == {"text": "c"}


def test_threads_share_the_in_process_cache_safely() -> None:
    cache = MemoryCache(max_entries=50)
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for i in range(400):
                cache.put(f"{worker}:{i % 80}", {"text": str(i)}, 60)
                cache.get(f"{(worker + 1) % 8}:{i % 80}")
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    health = cache.health()
    assert errors == []
    assert len(cache) == 50
    assert health.hits + health.misses == 8 * 400


def test_health_counts_hits_and_misses() -> None:
    cache = MemoryCache()
    cache.put("k", ANSWER, 60)
    cache.get("k")
    cache.get("missing")

    health = cache.health()

    assert (health.backend, health.healthy) == ("in-process", True)
    assert (health.hits, health.misses) == (1, 1)
    assert health.hit_rate == 0.5


def test_create_cache_picks_redis_only_when_a_url_is_set() -> None:
    assert isinstance(create_cache(Settings()), MemoryCache)
    with_url = create_cache(Settings(cache=CacheSettings(redis_url=UNREACHABLE)))
    assert isinstance(with_url, RedisCache)
    with_url.close()


@pytest.mark.redis
def test_redis_answer_comes_back_with_its_ttl(
    real_redis: tuple[RedisCache, FakeClock, SwitchableRedis],
) -> None:
    cache, _, switchable = real_redis
    key = cache.key_for({"q": "shipping"})

    cache.put(key, ANSWER, ttl_seconds=120)

    assert cache.get(key) == ANSWER
    assert cache.get(cache.key_for({"q": "other"})) is None
    [stored] = switchable.client.keys(f"*{key}")
    remaining_ms = switchable.client.pttl(stored)
    assert 110_000 < remaining_ms <= 120_000
    assert cache.health().healthy


@pytest.mark.redis
def test_redis_going_away_mid_run_degrades_and_recovers(
    real_redis: tuple[RedisCache, FakeClock, SwitchableRedis], caplog: pytest.LogCaptureFixture
) -> None:
    cache, clock, switchable = real_redis
    cache.put("before", ANSWER, 600)

    switchable.down = True
    with caplog.at_level(logging.WARNING, logger="core.cache.redis_cache"):
        missed = cache.get("before")
        cache.put("during", {"text": "kept in process"}, 600)
        during = cache.get("during")
    health = cache.health()
    calls_in_window = switchable.calls

    assert missed is None
    assert during == {"text": "kept in process"}
    assert not health.healthy and "does not answer" in health.detail
    assert sum("in-process cache" in r.getMessage() for r in caplog.records) == 1

    cache.get("before")
    assert switchable.calls == calls_in_window, "Redis is not retried inside the window"

    switchable.down = False
    clock.now += 31
    assert cache.get("before") == ANSWER
    assert cache.health().healthy


def test_unreachable_redis_is_a_miss_and_clearing_it_says_so() -> None:
    cache = RedisCache.from_url(UNREACHABLE, clock=FakeClock())

    assert cache.get("k") is None
    cache.put("k", ANSWER, 60)

    assert cache.get("k") == ANSWER
    assert not cache.health().healthy
    with pytest.raises(CacheError, match="did not answer"):
        cache.clear()
    cache.close()
