"""``SpanFinisher``: makes the spans of finished provider calls on a background thread.

An instrumented call gathers its attributes on the request path, where they must be read (the
caller may reuse its messages and response afterwards). Making the OpenTelemetry span from them
(pricing, the SDK's attribute checks, every span processor's ``on_start`` and ``on_end``) is
left to one background thread, with the start and end times and the parent context captured
on the request path. So an instrumented call costs its caller microseconds, and the span is
exactly what it would have been if made inline.

``drain()`` waits until every submitted call has its span; the Observatory's provider calls it
at the head of ``force_flush()`` and ``shutdown()``, so flushing the provider flushes these too.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

logger = logging.getLogger("observability.instrumentation")
Ended = TypeVar("Ended")


class SpanFinisher(Generic[Ended]):
    """Hands each submitted item to ``make_span`` on one background thread, in order.

    The thread starts with the first item and gathers items for ``delay_s`` after it wakes, so
    a burst of calls wakes it once. After ``close()``, items are made inline.
    """

    def __init__(self, make_span: Callable[[Ended], None], *, delay_s: float = 0.02) -> None:
        self._make_span = make_span
        self._delay_s = delay_s
        self._pending: deque[Ended] = deque()
        self._wake = threading.Event()
        self._hurry = threading.Event()
        self._idle = threading.Condition()
        self._busy = False
        self._closed = False
        self._flushing = 0
        self._thread: threading.Thread | None = None

    def submit(self, item: Ended) -> None:
        """Queue ``item`` for its span (O(1); wakes the thread at most once per batch)."""
        if self._closed:
            self._make(item)
            return
        self._pending.append(item)
        if self._thread is None:
            self._start()
        if not self._wake.is_set():
            self._wake.set()

    def drain(self, timeout_s: float = 30.0) -> bool:
        """Wait until every item submitted so far has its span; ``False`` on timeout."""
        with self._idle:
            self._flushing += 1
            self._hurry.set()
            self._wake.set()
            try:
                return self._idle.wait_for(self._is_idle, timeout_s)
            finally:
                self._flushing -= 1
                if not self._flushing:
                    self._hurry.clear()

    def close(self, timeout_s: float = 30.0) -> bool:
        """Drain, then stop the thread; later items are made inline. Idempotent."""
        drained = self.drain(timeout_s)
        self._closed = True
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout_s)
        while self._pending:
            self._make(self._pending.popleft())
        return drained

    def _start(self) -> None:
        with self._idle:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="span-finisher", daemon=True)
                self._thread.start()

    def _is_idle(self) -> bool:
        return not self._pending and not self._busy

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait()
            self._hurry.wait(self._delay_s)
            self._wake.clear()
            with self._idle:
                self._busy = True
            try:
                while self._pending:
                    self._make(self._pending.popleft())
            finally:
                with self._idle:
                    self._busy = False
                    self._idle.notify_all()

    def _make(self, item: Ended) -> None:
        try:
            self._make_span(item)
        except Exception:
            logger.exception("could not make the span of a finished call")
