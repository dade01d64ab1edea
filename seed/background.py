"""The demo history made on a thread beside the app, with progress the pages can show.

Pages come first: Python runs one thread at a time, so the history waits, between two
conversations, while any page script is running (``page_running()`` marks one), and a page never
waits for more than the one conversation under way.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from core.services import Services
from seed.history import HistoryProgress, load_history

log = logging.getLogger(__name__)
PAGE_WAIT_S = 5.0
"""The longest the history holds back for pages at a time (a page left open never stops it)."""


class BackgroundHistory:
    """Loads the demo history once per process: the short pass first when asked, then the rest."""

    def __init__(self) -> None:
        self.progress = HistoryProgress()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._pages = 0
        self._quiet = threading.Condition()
        self._stopping = False

    @contextmanager
    def page_running(self) -> Iterator[None]:
        """Mark a page script as running: the history holds back until none is."""
        with self._quiet:
            self._pages += 1
        try:
            yield
        finally:
            with self._quiet:
                self._pages -= 1
                self._quiet.notify_all()

    def stop(self) -> None:
        """Ask the load to stop before its next conversation (what it made stays)."""
        with self._quiet:
            self._stopping = True
            self._quiet.notify_all()

    def _go_on(self) -> bool:
        """Wait while pages run; ``False`` once asked to stop."""
        with self._quiet:
            self._quiet.wait_for(lambda: self._pages == 0 or self._stopping, timeout=PAGE_WAIT_S)
            return not self._stopping

    @property
    def started(self) -> bool:
        """Whether a load was started in this process."""
        return self._thread is not None

    def start(self, services: Services, days: int, *, short_first: bool) -> None:
        """Start loading (once; later calls do nothing)."""
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(
                target=self._load, args=(services, days, short_first), name="demo-history"
            )
            self._thread.daemon = True
            self._thread.start()

    def join(self, timeout_s: float | None = None) -> bool:
        """Wait for the load to end; ``True`` if it has."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout_s)
        return thread is None or not thread.is_alive()

    def _load(self, services: Services, days: int, short_first: bool) -> None:
        progress = self.progress
        try:
            if short_first:
                load_history(services, days, short=True, progress=progress, go_on=self._go_on)
            load_history(services, days, progress=progress, go_on=self._go_on)
        except Exception as exc:  # a thread has no caller to raise to
            log.exception("the demo history stopped")
            with progress.lock:
                progress.error = f"The demo history stopped: {exc}"
        finally:
            with progress.lock:
                progress.finished = True
