"""Fault injection: which of the next provider calls fail, and how.

A ``FaultPlan`` holds armed ``Fault``s. Each matches a provider and/or model (None matches all)
and fires for the next ``times`` matching calls, or with ``probability`` on each, or (neither
given) on every matching call; ``for_s`` or ``until`` also end it at a time on the app clock
(``core.clock``, so the demo history's simulated time counts). SLOW faults add latency and let the
call go on; of the other kinds the first that fires decides the call's fate. Thread-safe: the
Admin page and the scenarios arm faults while the engine's calls consume them.

Two transports draw from one plan: the simulator's (``core.simulator.transport``) and, in front
of a real provider, ``core.providers.fault_injection``.
"""

from __future__ import annotations

import itertools
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from core.clock import utcnow


class FaultKind(StrEnum):
    RATE_LIMIT = "rate_limit"
    """HTTP 429 with ``retry-after`` and the provider's error body."""
    SERVER_ERROR = "server_error"
    """HTTP 500 (or ``status_code``, 500–599) with the provider's error body."""
    TIMEOUT = "timeout"
    """The read times out (``httpx2.ReadTimeout``) after ``delay_s``, or the client's timeout
    when that is shorter."""
    MALFORMED_JSON = "malformed_json"
    """A 200 whose JSON-mode content (or, for plain text, whose body) does not parse."""
    SCHEMA_VIOLATION = "schema_violation"
    """A 200 with valid JSON that lacks the schema's required fields."""
    SLOW = "slow"
    """``delay_s`` extra seconds before the first byte; past the client's timeout the call
    times out."""
    STREAM_CUT = "stream_cut"
    """The connection drops midway through the answer (``httpx2.RemoteProtocolError``): a
    stream stops after some chunks, a JSON body after half its bytes."""


@dataclass(frozen=True)
class Fault:
    """One kind of failure for calls matching ``provider`` and ``model`` (None = any).

    ``provider`` is ``openai``, ``azure`` or ``anthropic``; ``model`` matches the requested
    model, the Azure deployment or the catalogue name it resolves to. ``times`` ends it after
    that many firings, ``for_s`` that many seconds after it is armed, ``until`` at that time;
    whichever comes first.
    """

    kind: FaultKind
    provider: str | None = None
    model: str | None = None
    times: int | None = None
    probability: float | None = None
    retry_after_s: float = 1.0
    delay_s: float = 5.0
    status_code: int = 500
    for_s: float | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        if self.times is not None and self.times < 1:
            raise ValueError("Fault.times must be at least 1; leave it None for every call.")
        if self.probability is not None and not 0 <= self.probability <= 1:
            raise ValueError("Fault.probability must be between 0 and 1.")
        if self.for_s is not None and self.for_s <= 0:
            raise ValueError("Fault.for_s must be more than 0 seconds; leave it None for no limit.")
        if self.until is not None and self.until.tzinfo is None:
            raise ValueError("Fault.until must be an aware datetime (UTC).")
        if self.retry_after_s < 0 or self.delay_s < 0:
            raise ValueError("Fault.retry_after_s and Fault.delay_s cannot be negative.")
        if self.kind is FaultKind.SERVER_ERROR and not 500 <= self.status_code <= 599:
            raise ValueError("A server error's status_code must be between 500 and 599.")

    @property
    def target(self) -> str:
        """``provider/model`` with ``any`` for what it does not restrict."""
        return f"{self.provider or 'any provider'}/{self.model or 'any model'}"

    def describe(self) -> str:
        """A short line for the UI, e.g. ``rate_limit · openai/gpt-4o · next 3 calls``."""
        return f"{self.kind.value} · {self.target} · {self._how()}"

    def _how(self) -> str:
        if self.probability is not None:
            how = f"{self.probability:.0%} of calls"
        else:
            how = _calls(self.times) if self.times else "every call"
        if self.for_s is not None:
            how += f" for {_duration(self.for_s)}"
        if self.until is not None:
            how += f" until {self.until:%H:%M:%S} UTC"
        return how


@dataclass(frozen=True)
class PendingFault:
    """An armed fault: firings left (None = unlimited), seconds left (None = no time limit),
    its ``id`` in the plan (for ``FaultPlan.disarm``) and how often it has fired."""

    fault: Fault
    remaining: int | None
    id: int = 0
    seconds_left: float | None = None
    fired: int = 0

    def left(self) -> str:
        """What is left before it ends by itself: ``2 calls``, ``4 min 10 s``, both, or
        ``until cleared``."""
        parts = []
        if self.remaining is not None:
            parts.append(f"{self.remaining} call" + ("" if self.remaining == 1 else "s"))
        if self.seconds_left is not None:
            parts.append(_duration(self.seconds_left))
        return " or ".join(parts) if parts else "until cleared"

    def describe(self) -> str:
        """The fault's description with what is left."""
        if self.remaining is not None and self.seconds_left is None:
            return f"{self.fault.describe()} ({self.remaining} left)"
        if self.seconds_left is not None:
            return f"{self.fault.describe()} ({self.left()} left)"
        return self.fault.describe()


@dataclass(frozen=True)
class FaultOutcome:
    """What the plan decided for one call: an optional failure and extra latency."""

    failure: Fault | None = None
    extra_delay_s: float = 0.0


@dataclass
class _Armed:
    id: int
    fault: Fault
    remaining: int | None
    expires_at: datetime | None
    fired: int = 0


@dataclass
class FaultPlan:
    """The faults armed for the coming calls. ``seed`` makes probabilistic faults repeatable;
    ``clock`` (default: the app clock) dates ``for_s`` and ``until``."""

    seed: int = 0
    clock: Callable[[], datetime] = utcnow
    _armed: list[_Armed] = field(default_factory=list, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _rng: random.Random = field(init=False)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1), init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def add(self, fault: Fault) -> FaultPlan:
        """Arm ``fault``; returns the plan so calls chain."""
        self.arm(fault)
        return self

    def arm(self, fault: Fault) -> PendingFault:
        """Arm ``fault``; returns it as listed by ``pending`` (with its id)."""
        with self._lock:
            now = self.clock()
            ends = [fault.until] if fault.until is not None else []
            if fault.for_s is not None:
                ends.append(now + timedelta(seconds=fault.for_s))
            armed = _Armed(next(self._ids), fault, fault.times, min(ends) if ends else None)
            self._armed.append(armed)
            return _pending(armed, now)

    def clear(self) -> list[PendingFault]:
        """Disarm every fault; returns what was armed."""
        with self._lock:
            now = self.clock()
            cleared = [_pending(armed, now) for armed in self._live(now)]
            self._armed.clear()
            return cleared

    def disarm(self, fault_id: int) -> PendingFault | None:
        """Disarm the fault with ``fault_id``; returns it, or None when it had already ended."""
        with self._lock:
            now = self.clock()
            for armed in self._live(now):
                if armed.id == fault_id:
                    self._armed.remove(armed)
                    return _pending(armed, now)
            return None

    def pending(self) -> list[PendingFault]:
        """The faults still armed, in the order they were added."""
        with self._lock:
            now = self.clock()
            return [_pending(armed, now) for armed in self._live(now)]

    def draw(self, provider: str, models: frozenset[str]) -> FaultOutcome:
        """Consume the faults that fire for one call to ``provider`` naming any of ``models``."""
        with self._lock:
            failure: Fault | None = None
            extra = 0.0
            for armed in self._live(self.clock()):
                fault = armed.fault
                if not _matches(fault, provider, models):
                    continue
                if fault.kind is not FaultKind.SLOW and failure is not None:
                    continue
                if fault.probability is not None and self._rng.random() >= fault.probability:
                    continue
                self._consume(armed)
                if fault.kind is FaultKind.SLOW:
                    extra += fault.delay_s
                else:
                    failure = fault
            return FaultOutcome(failure, extra)

    def _live(self, now: datetime) -> list[_Armed]:
        """Drop the faults whose time is up; the rest, in order (a copy)."""
        self._armed[:] = [a for a in self._armed if a.expires_at is None or a.expires_at > now]
        return list(self._armed)

    def _consume(self, armed: _Armed) -> None:
        armed.fired += 1
        if armed.remaining is None:
            return
        armed.remaining -= 1
        if armed.remaining == 0:
            self._armed.remove(armed)


def _pending(armed: _Armed, now: datetime) -> PendingFault:
    left = None if armed.expires_at is None else (armed.expires_at - now).total_seconds()
    return PendingFault(armed.fault, armed.remaining, armed.id, left, armed.fired)


def _matches(fault: Fault, provider: str, models: frozenset[str]) -> bool:
    if fault.provider is not None and fault.provider != provider:
        return False
    return fault.model is None or fault.model in models


def _calls(times: int) -> str:
    return "next call" if times == 1 else f"next {times} calls"


def _duration(seconds: float) -> str:
    """``45 s``, ``4 min 10 s``, ``2 min``, ``1 h 5 min``."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"
