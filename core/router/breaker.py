"""A circuit breaker per provider and model: closed → open → half-open → closed.

Closed lets every call through and counts consecutive failures; at ``failure_threshold`` it
opens. Open refuses calls until ``reset_s`` have passed, then turns half-open: one trial call
goes through; success closes the breaker, failure opens it again for another ``reset_s``.
A caller's own 4xx (bad request, refused key, unknown model) is neither a success nor a failure
here: only the provider's failures count.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class BreakerSnapshot:
    """What the UI shows for one breaker."""

    state: BreakerState
    consecutive_failures: int
    reopens_in_s: float | None
    """Seconds until an open breaker lets a trial call through; ``None`` unless open."""


class CircuitBreaker:
    """Thread-safe breaker; ``clock`` returns monotonic seconds."""

    def __init__(self, *, failure_threshold: int, reset_s: float, clock: Callable[[], float]):
        self._threshold = failure_threshold
        self._reset_s = reset_s
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> BreakerState:
        """The state now (an open breaker turns half-open once ``reset_s`` have passed)."""
        with self._lock:
            return self._state()

    def snapshot(self) -> BreakerSnapshot:
        """State, failure count and time left before a trial call."""
        with self._lock:
            state = self._state()
            left = None
            if state is BreakerState.OPEN and self._opened_at is not None:
                left = max(0.0, self._opened_at + self._reset_s - self._clock())
            return BreakerSnapshot(state, self._failures, left)

    def allow(self) -> bool:
        """True when a call may go through now (half-open: only the one trial call)."""
        with self._lock:
            state = self._state()
            if state is BreakerState.OPEN:
                return False
            if state is BreakerState.HALF_OPEN:
                if self._trial_running:
                    return False
                self._trial_running = True
            return True

    def record_success(self) -> None:
        """The call worked: close the breaker."""
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._trial_running = False

    def record_failure(self) -> None:
        """The provider failed: count it, opening the breaker at the threshold or after a
        failed trial."""
        with self._lock:
            trial = self._state() is BreakerState.HALF_OPEN
            self._failures += 1
            self._trial_running = False
            if trial or self._failures >= self._threshold:
                self._opened_at = self._clock()

    def release(self) -> None:
        """The call ended without telling us about the provider (the caller's 4xx)."""
        with self._lock:
            self._trial_running = False

    def _state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at >= self._reset_s:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN
