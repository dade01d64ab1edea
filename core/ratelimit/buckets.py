"""Token buckets, one per user: in Redis (one Lua script, so concurrent app processes agree) or
in this process.

A bucket holds up to ``burst`` tokens and refills at ``per_minute / 60`` tokens a second; each
message takes one. An empty bucket refuses, saying how long until the next token.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis

MAX_MEMORY_BUCKETS = 10_000
DEFAULT_PREFIX = "so:ratelimit:"

# KEYS[1] bucket; ARGV capacity, refill per second, now (s). Returns {allowed, tokens, wait_s}.
TOKEN_BUCKET_LUA = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = capacity
  ts = now
end
if now > ts then
  tokens = math.min(capacity, tokens + (now - ts) * rate)
  ts = now
end
local allowed = 0
local wait = 0
if tokens >= 1 then
  allowed = 1
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(ts))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
return {allowed, tostring(tokens), tostring(wait)}
"""


@dataclass(frozen=True)
class RateDecision:
    """Whether a message may go ahead; if not, how long to wait."""

    allowed: bool
    retry_after_s: float
    """Seconds until the next message is allowed (0 when allowed)."""
    remaining: int
    """Messages still allowed right now after this one."""


@dataclass(frozen=True)
class RatePolicy:
    """The limit every user gets."""

    per_minute: int
    burst: int

    def __post_init__(self) -> None:
        if self.per_minute < 1 or self.burst < 1:
            raise ValueError("per_minute and burst must both be at least 1")

    @property
    def refill_per_s(self) -> float:
        return self.per_minute / 60

    def describe(self) -> str:
        """``20 messages a minute, bursts of up to 10`` — for the admin page."""
        return f"{self.per_minute} messages a minute, bursts of up to {self.burst}"


def decide(policy: RatePolicy, tokens: float) -> RateDecision:
    """The decision for a bucket holding ``tokens`` before this message (same math as the Lua)."""
    if tokens >= 1:
        return RateDecision(True, 0.0, math.floor(tokens - 1))
    return RateDecision(False, (1 - tokens) / policy.refill_per_s, 0)


class MemoryBuckets:
    """Buckets in this process; ``clock`` returns seconds (``time.monotonic`` by default)."""

    def __init__(self, policy: RatePolicy, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._policy = policy
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[int, tuple[float, float]] = {}

    def take(self, user_id: int) -> RateDecision:
        """Take one token from ``user_id``'s bucket if there is one."""
        policy, now = self._policy, self._clock()
        with self._lock:
            tokens, since = self._buckets.get(user_id, (float(policy.burst), now))
            tokens = min(float(policy.burst), tokens + max(0.0, now - since) * policy.refill_per_s)
            decision = decide(policy, tokens)
            self._buckets[user_id] = (tokens - 1 if decision.allowed else tokens, now)
            if len(self._buckets) > MAX_MEMORY_BUCKETS:
                self._forget_full(now)
        return decision

    def _forget_full(self, now: float) -> None:
        refill_s = self._policy.burst / self._policy.refill_per_s
        self._buckets = {
            user: state for user, state in self._buckets.items() if now - state[1] < refill_s
        }


class RedisBuckets:
    """Buckets in Redis under ``prefix`` + user id; raises ``redis.RedisError`` when Redis fails.

    ``clock`` must be wall-clock seconds shared by every app process (``time.time``).
    """

    def __init__(
        self,
        client: redis.Redis,
        policy: RatePolicy,
        *,
        prefix: str = DEFAULT_PREFIX,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._policy = policy
        self._prefix = prefix
        self._clock = clock
        self._script = client.register_script(TOKEN_BUCKET_LUA)

    def take(self, user_id: int) -> RateDecision:
        """Take one token atomically (one script run, one round trip)."""
        policy = self._policy
        allowed, tokens, wait = self._script(
            keys=[f"{self._prefix}{user_id}"],
            args=[policy.burst, repr(policy.refill_per_s), repr(self._clock())],
        )
        if int(allowed) == 1:
            return RateDecision(True, 0.0, math.floor(float(tokens)))
        return RateDecision(False, float(wait), 0)

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()
