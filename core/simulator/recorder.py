"""Keeping every request the simulator receives, for tests that check what left the app."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RecordedRequest:
    """One request as it arrived: method, path, headers (no auth) and the parsed JSON body."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def text(self) -> str:
        """The body as JSON text, for substring checks such as "no e-mail address leaked"."""
        return json.dumps(self.body, ensure_ascii=False)


_SECRET_HEADERS = frozenset({"authorization", "api-key", "x-api-key"})


class RequestRecorder:
    """Thread-safe list of the requests received, oldest first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of every request recorded so far."""
        with self._lock:
            return list(self._requests)

    def record(self, method: str, path: str, headers: dict[str, str], body: dict[str, Any]) -> None:
        """Keep one request; credentials in headers are dropped."""
        kept = {k: v for k, v in headers.items() if k.lower() not in _SECRET_HEADERS}
        with self._lock:
            self._requests.append(RecordedRequest(method, path, kept, body))

    def clear(self) -> None:
        """Forget every request recorded so far."""
        with self._lock:
            self._requests.clear()
