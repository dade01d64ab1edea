"""The app's notion of now: real time, or the simulated clock of a ``simulated_clock`` block.

Rows stamped with ``utcnow()`` (``core.db.models``) and spans share one clock, carried in the
OpenTelemetry context (``observability.clock``), so the demo history's conversations, messages,
feedback and tickets are dated like its spans, while other threads keep the real time.
"""

from __future__ import annotations

from datetime import datetime

from observability import clock


def utcnow() -> datetime:
    """The current time, aware, in UTC (simulated inside a ``simulated_clock`` block)."""
    return clock.now()


def perf_counter() -> float:
    """``time.perf_counter()`` plus the simulated seconds advanced in the current block."""
    return clock.perf_counter()
