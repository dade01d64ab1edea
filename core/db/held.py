"""Writes to the app database that wait for it to come back, and a bounded retry for one write.

When PostgreSQL goes away, a customer's message must not end in an exception or be lost:

1. ``retry_storage`` retries one write a few times with backoff while the connection is lost
   (``pool_pre_ping`` gives the retry a fresh connection once the server answers again);
2. if the database is still away, the engine raises ``DatabaseAway`` before anything of the
   turn is stored, and the chat's ``TurnQueue`` keeps the message at the head of its queue,
   counted here in ``HELD_WRITES``, and tries again until it is stored — once, thanks to the
   message's ``request_key``.

``HELD_WRITES`` is per process: Home shows it and ``/metrics`` exports it (``core.api`` hands it
to the API as a gauge; ``observability`` never imports ``core``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError

from core.errors import StorageError

T = TypeVar("T")


def is_connection_lost(error: BaseException) -> bool:
    """Whether ``error`` (ours or SQLAlchemy's) says the database could not be reached or the
    connection dropped, as opposed to the database refusing the statement."""
    cause = error.__cause__ if isinstance(error, StorageError) else error
    if isinstance(cause, OperationalError | InterfaceError | DisconnectionError):
        return True
    return isinstance(cause, DBAPIError) and bool(cause.connection_invalidated)


def retry_storage(
    write: Callable[[], T],
    *,
    attempts: int,
    base_s: float,
    max_s: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``write()``, tried up to ``attempts`` times while the connection is lost, waiting
    ``base_s``, then twice as long each time (at most ``max_s``); other errors at once."""
    delay = base_s
    for attempt in range(1, attempts + 1):
        try:
            return write()
        except StorageError as exc:
            if attempt == attempts or not is_connection_lost(exc):
                raise
        sleep(delay)
        delay = min(delay * 2, max_s)
    raise AssertionError("unreachable: the last attempt returns or raises")


@dataclass(frozen=True)
class HeldCounts:
    held: int
    """Messages waiting now for the app database to come back."""
    held_total: int
    """Messages that ever had to wait (since the process started)."""
    stored_after_wait: int
    """Of those, stored once the database was back."""


class HeldWrites:
    """Thread-safe counts of messages held for the app database, by their request key."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: set[str] = set()
        self._total = 0
        self._stored = 0

    def hold(self, key: str) -> None:
        """The message ``key`` waits for the database (counted once however often it retries)."""
        with self._lock:
            if key not in self._held:
                self._held.add(key)
                self._total += 1

    def release(self, key: str) -> None:
        """The message ``key`` went through once the database was back."""
        with self._lock:
            if key in self._held:
                self._held.discard(key)
                self._stored += 1

    def counts(self) -> HeldCounts:
        with self._lock:
            return HeldCounts(len(self._held), self._total, self._stored)


HELD_WRITES = HeldWrites()
"""This process's held messages (every chat session's queue reports here)."""
