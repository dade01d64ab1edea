"""Fault injection: which of the next calls fail, and how.

A ``FaultPlan`` holds ``Fault``s. Each matches a provider and/or model (None matches all) and
fires for the next ``times`` matching calls, or with ``probability`` on each, or (neither given)
on every matching call until ``clear()``. SLOW faults add latency and let the call go on; of the
other kinds the first that fires decides the call's fate. Thread-safe: scenarios arm faults
from the UI thread while the engine's calls consume them.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from enum import StrEnum


class FaultKind(StrEnum):
    RATE_LIMIT = "rate_limit"
    """HTTP 429 with ``retry-after`` and the provider's error body."""
    SERVER_ERROR = "server_error"
    """HTTP 500 (or ``status_code``) with the provider's error body."""
    TIMEOUT = "timeout"
    """The read times out (``httpx2.ReadTimeout``) after ``delay_s`` of simulated time, or the
    client's timeout when that is shorter."""
    MALFORMED_JSON = "malformed_json"
    """A 200 whose JSON-mode content (or, for plain text, whose body) does not parse."""
    SCHEMA_VIOLATION = "schema_violation"
    """A 200 with valid JSON that lacks the schema's required fields."""
    SLOW = "slow"
    """``delay_s`` extra seconds before the first chunk; past the client's timeout the call
    times out."""


@dataclass(frozen=True)
class Fault:
    """One kind of failure for calls matching ``provider`` and ``model`` (None = any).

    ``provider`` is ``openai``, ``azure`` or ``anthropic``; ``model`` matches the requested
    model, the Azure deployment or the catalogue name it resolves to.
    """

    kind: FaultKind
    provider: str | None = None
    model: str | None = None
    times: int | None = None
    probability: float | None = None
    retry_after_s: float = 1.0
    delay_s: float = 5.0
    status_code: int = 500

    def __post_init__(self) -> None:
        if self.times is not None and self.times < 1:
            raise ValueError("Fault.times must be at least 1; leave it None for every call.")
        if self.probability is not None and not 0 <= self.probability <= 1:
            raise ValueError("Fault.probability must be between 0 and 1.")

    def describe(self) -> str:
        """A short line for the UI, e.g. ``rate_limit · openai/gpt-4o · next 3 calls``."""
        target = f"{self.provider or 'any provider'}/{self.model or 'any model'}"
        if self.probability is not None:
            how = f"{self.probability:.0%} of calls"
        else:
            how = f"next {self.times} calls" if self.times else "every call"
        return f"{self.kind.value} · {target} · {how}"


@dataclass(frozen=True)
class PendingFault:
    """An armed fault and how many firings it has left (None = unlimited)."""

    fault: Fault
    remaining: int | None

    def describe(self) -> str:
        """The fault's description with the firings left."""
        left = "" if self.remaining is None else f" ({self.remaining} left)"
        return self.fault.describe() + left


@dataclass(frozen=True)
class FaultOutcome:
    """What the plan decided for one call: an optional failure and extra latency."""

    failure: Fault | None = None
    extra_delay_s: float = 0.0


@dataclass
class _Armed:
    fault: Fault
    remaining: int | None


@dataclass
class FaultPlan:
    """The faults armed for the coming calls. ``seed`` makes probabilistic faults repeatable."""

    seed: int = 0
    _armed: list[_Armed] = field(default_factory=list, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def add(self, fault: Fault) -> FaultPlan:
        """Arm ``fault``; returns the plan so calls chain."""
        with self._lock:
            self._armed.append(_Armed(fault, fault.times))
        return self

    def clear(self) -> None:
        """Disarm every fault."""
        with self._lock:
            self._armed.clear()

    def pending(self) -> list[PendingFault]:
        """The faults still armed, in the order they were added."""
        with self._lock:
            return [PendingFault(armed.fault, armed.remaining) for armed in self._armed]

    def draw(self, provider: str, models: frozenset[str]) -> FaultOutcome:
        """Consume the faults that fire for one call to ``provider`` naming any of ``models``."""
        with self._lock:
            failure: Fault | None = None
            extra = 0.0
            for armed in list(self._armed):
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

    def _consume(self, armed: _Armed) -> None:
        if armed.remaining is None:
            return
        armed.remaining -= 1
        if armed.remaining == 0:
            self._armed.remove(armed)


def _matches(fault: Fault, provider: str, models: frozenset[str]) -> bool:
    if fault.provider is not None and fault.provider != provider:
        return False
    return fault.model is None or fault.model in models
