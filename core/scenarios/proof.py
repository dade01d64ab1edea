"""The app's log of what it sent to simulated providers: the PII scenario's proof.

``RecentRequests`` is the simulator's ``RequestRecorder`` keeping only the newest requests, so
a long-running app holds a bounded amount. Real providers are not recorded (their requests
never pass the simulator); the PII scenario then proves its case from the trace alone.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from core.simulator import RecordedRequest, RequestRecorder

KEPT_REQUESTS = 200


class RecentRequests(RequestRecorder):
    """A ``RequestRecorder`` that keeps the newest ``limit`` requests."""

    def __init__(self, limit: int = KEPT_REQUESTS) -> None:
        super().__init__()
        self._recent: deque[RecordedRequest] = deque(maxlen=limit)
        self._count = 0

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of the requests kept, oldest first."""
        with self._lock:
            return list(self._recent)

    @property
    def count(self) -> int:
        """How many requests were ever recorded (kept or not)."""
        with self._lock:
            return self._count

    def record(self, method: str, path: str, headers: dict[str, str], body: dict[str, Any]) -> None:
        """Keep one request (credentials dropped); the oldest goes when full."""
        super().record(method, path, headers, body)
        with self._lock:
            self._recent.append(self._requests.pop())
            self._count += 1

    def clear(self) -> None:
        """Forget every request kept."""
        with self._lock:
            self._recent.clear()


def request_mark(recorder: RequestRecorder) -> int:
    """How many requests ``recorder`` has seen so far (to find the ones after this point)."""
    return recorder.count if isinstance(recorder, RecentRequests) else len(recorder.requests)


def requests_since(recorder: RequestRecorder, mark: int) -> list[RecordedRequest]:
    """The requests recorded after ``request_mark`` gave ``mark`` (as many as are kept)."""
    new = request_mark(recorder) - mark
    return recorder.requests[-new:] if new > 0 else []
