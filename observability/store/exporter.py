"""``StoreSpanProcessor``: finished spans go into a bounded buffer; one background thread
writes them to the trace store in batches and retries while the store is away. On PostgreSQL
a second thread finishes each batch (the server's merges and the commit) while the first sends
the next, so converting spans in Python and merging them on the server overlap. When nothing
waits to be written, the first thread does the writer's upkeep (``MaintainedSpanWriter``).

Why not ``BatchSpanProcessor``: it drops a batch as soon as its exporter fails and drops new
spans on a full queue with one log line and no count. Here a failed batch stays at the head of
the buffer and is retried with backoff; only spans arriving while the buffer is full are
dropped, and each one is counted in ``stats()`` and reported in the log.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from sqlalchemy.exc import DataError, IntegrityError, ProgrammingError

from observability.store.rows import SpanRow, span_to_row
from observability.store.writer import MaintainedSpanWriter, PipelinedSpanWriter, SpanWriter

logger = logging.getLogger("observability.store")
Pending = ReadableSpan | SpanRow
"""A span waiting to be written: an SDK span, or the row of one made elsewhere (the OTLP
receiver makes rows straight from the request)."""
BATCH_SPANS = 10_000
"""The most spans written in one transaction: larger batches merge more spans into each trace
and rollup row and pay a transaction's fixed costs less often, and two still fit in the
default buffer, so that one is sent while the other commits."""
_PERMANENT = (IntegrityError, DataError, ProgrammingError, ValueError, TypeError)
"""Failures that retrying the same batch cannot cure: the batch is counted as dropped."""


@dataclass(frozen=True)
class ExportStats:
    """Spans written to the store, waiting in the buffer, and dropped (with the last error).

    Every span that ended is in exactly one of the three: ``ended == written + dropped +
    pending`` whenever the counts are read."""

    written: int
    pending: int
    dropped: int
    last_error: str | None
    ended: int = 0
    failing: bool = False
    """True while the store is away (the last write failed and waits to be retried)."""

    def metrics(self) -> str:
        """The counts in the Prometheus text format, one line per count."""
        counts = {
            "ended": self.ended,
            "written": self.written,
            "dropped": self.dropped,
            "pending": self.pending,
        }
        return "\n".join(
            f'observatory_trace_store_spans{{state="{state}"}} {count}'
            for state, count in counts.items()
        )


@dataclass(frozen=True)
class _Committing:
    """A batch sent to the store whose merges and commit run on the committer thread."""

    finished: Future[None]
    sent: list[Pending]
    """The spans whose rows it holds (those that could be converted)."""
    taken: int
    """How many spans at the head of the buffer it holds."""


class StoreSpanProcessor(SpanProcessor):
    """Buffers finished spans (at most ``buffer_spans``) and writes them off the request path,
    in batches of at most ``batch_size`` spans and half the buffer.

    ``start_thread=False`` leaves draining to ``export_batch()`` calls (for tests: no sleeps).
    """

    def __init__(
        self,
        writer: SpanWriter,
        *,
        buffer_spans: int = 20_000,
        batch_size: int = BATCH_SPANS,
        export_interval_ms: int = 500,
        max_backoff_s: float = 30.0,
        shutdown_timeout_ms: int = 5_000,
        start_thread: bool = True,
        row_of: Callable[[ReadableSpan], SpanRow] = span_to_row,
    ) -> None:
        self._writer = writer
        self._bound = buffer_spans
        self._batch_size = max(1, min(batch_size, buffer_spans // 2))
        self._interval_s = export_interval_ms / 1000.0
        self._max_backoff_s = max_backoff_s
        self._shutdown_timeout_ms = shutdown_timeout_ms
        self._row_of = row_of
        self._buffer: deque[Pending] = deque()
        self._inflight: list[Pending] = []
        """Spans of failed batches, taken off the buffer, to write again, oldest first (their
        rows are made anew: keeping rows alive for a retry would make the garbage collector run
        three times as often while the store is up). A batch only ever adds to it or removes
        the spans it retried from its head, so no failure overwrites another's spans."""
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._idle = threading.Condition(self._lock)
        self._stopping = False
        self._ended = 0
        self._written = 0
        self._dropped = 0
        self._dropping = False
        self._failures = 0
        """Consecutive failed writes (the backoff grows with them)."""
        self._failed_writes = 0
        """Failed writes since start (a flush returns once one more has failed)."""
        self._last_error: str | None = None
        self._thread: threading.Thread | None = None
        self._committing: _Committing | None = None
        self._pool: ThreadPoolExecutor | None = None
        if start_thread:
            self._thread = threading.Thread(target=self._run, name="trace-store", daemon=True)
            self._thread.start()

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        """Nothing to do when a span starts."""

    def on_end(self, span: ReadableSpan) -> None:
        """Queue ``span``; if the buffer is full, count it as dropped (O(1), never blocks)."""
        with self._lock:
            self._ended += 1
            if self._stopping:
                self._dropped += 1
                return
            if len(self._buffer) + len(self._inflight) >= self._bound:
                self._dropped += 1
                if not self._dropping:
                    self._dropping = True
                    logger.warning(
                        "trace store buffer full (%d spans): dropping new spans until the "
                        "store catches up (last error: %s)", self._bound, self._last_error,
                    )  # fmt: skip
                return
            self._buffer.append(span)
            full = len(self._buffer) == self._batch_size
        if full:
            self._wake.set()

    def offer(self, spans: Sequence[Pending]) -> bool:
        """Queue finished spans made elsewhere (an OTLP receiver; as SDK spans or as their
        rows) all together, or none of them when they do not all fit in the buffer: then
        ``False`` and nothing is counted, so the sender can send them again later."""
        with self._lock:
            if self._stopping or len(self._buffer) + len(self._inflight) + len(spans) > self._bound:
                return False
            self._ended += len(spans)
            self._buffer.extend(spans)
            full = len(self._buffer) >= self._batch_size
        if full:
            self._wake.set()
        return True

    def stats(self) -> ExportStats:
        """Counts so far: written, pending (buffered or being written), dropped, last error."""
        with self._lock:
            pending = len(self._buffer) + len(self._inflight)
            return ExportStats(
                self._written,
                pending,
                self._dropped,
                self._last_error,
                self._ended,
                self._failures > 0,
            )

    def export_batch(self) -> bool:
        """Write one batch now; ``True`` unless a batch failed and waits to be retried.

        With a ``PipelinedSpanWriter`` the batch is sent now and finished (merged and
        committed) on the committer thread while the next call sends the next batch; each call
        first settles the batch sent before it, whose spans stay buffered until then.
        """
        with self._lock:
            retry = self._inflight
            skip = self._committing.taken if self._committing is not None else 0
            taken = [] if retry else list(islice(self._buffer, skip, skip + self._batch_size))
        if retry:
            settled = self._settle()
            return self._write(retry, retried=len(retry)) and settled
        if not taken:
            return self._settle()
        if not isinstance(self._writer, PipelinedSpanWriter):
            return self._write(taken, taken=len(taken))
        sent: list[Pending] = []
        source = self._convert(taken, sent)
        try:
            finish = self._writer.begin(source)
        except Exception as exc:
            deque(source, maxlen=0)  # find the spans the writer did not get to
            settled = self._settle()
            return self._account(exc, sent, taken=len(taken)) and settled
        settled = self._settle()
        self._committing = _Committing(self._committer().submit(finish), sent, len(taken))
        return settled

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Write now and wait until everything buffered is written; ``False`` if that took
        longer, or as soon as a write fails (the store is away: waiting for it would only block
        the caller, and the spans are kept and retried anyway)."""
        if self._thread is None:
            while self.stats().pending:
                if not self.export_batch():
                    return False
            return True
        with self._idle:
            failed_before = self._failed_writes
            self._wake.set()  # try now rather than after the backoff
            self._idle.wait_for(
                lambda: (
                    (not self._buffer and not self._inflight) or self._failed_writes > failed_before
                ),
                timeout_millis / 1000.0,
            )
            return not self._buffer and not self._inflight

    def shutdown(self) -> None:
        """Write what is buffered (for up to ``shutdown_timeout_ms``), then stop; spans left
        unwritten are counted as dropped (unless the writer is stuck in a write, when they
        stay pending: counting them as dropped could count them twice)."""
        self.force_flush(self._shutdown_timeout_ms)
        with self._lock:
            self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            if self._thread.is_alive():
                logger.warning("trace store writer still busy at shutdown; its spans stay pending")
                return
        self._settle()
        if self._pool is not None:
            self._pool.shutdown(wait=False)
        with self._lock:
            lost = len(self._buffer) + len(self._inflight)
            self._dropped += lost
            self._buffer.clear()
            self._inflight = []
        if lost:
            logger.warning("trace store shut down with %d spans unwritten (dropped)", lost)

    def _run(self) -> None:
        while True:
            self._wake.wait(self._delay())
            self._wake.clear()
            with self._lock:
                if self._stopping:
                    return
            while self.stats().pending and self.export_batch():
                pass
            if not self.stats().pending:
                self._maintain()

    def _maintain(self) -> None:
        """The writer's upkeep, while nothing waits to be written; a failure is logged."""
        if not isinstance(self._writer, MaintainedSpanWriter):
            return
        try:
            self._writer.maintain()
        except Exception as exc:
            logger.warning("trace store upkeep failed (retried later): %s", _describe(exc))

    def _delay(self) -> float:
        if not self._failures:
            return self._interval_s
        return float(min(self._max_backoff_s, self._interval_s * 2 ** min(self._failures, 16)))

    def _convert(self, spans: list[Pending], sent: list[Pending]) -> Iterator[SpanRow]:
        """Rows of ``spans``, converted as the writer asks for them (so that conversion
        overlaps the database's work); the spans that could be converted go into ``sent``
        (the others are counted as dropped when their batch is accounted for)."""
        for span in spans:
            if type(span) is SpanRow:
                sent.append(span)
                yield span
                continue
            try:
                row = self._row_of(span)  # type: ignore[arg-type]
            except Exception as exc:
                with self._lock:
                    self._last_error = _describe(exc)
                logger.error("trace store dropped a span it cannot write: %s", _describe(exc))
                continue
            sent.append(span)
            yield row

    def _write(self, spans: list[Pending], *, taken: int = 0, retried: int = 0) -> bool:
        """Write the rows of ``spans`` and account for them."""
        sent: list[Pending] = []
        source = self._convert(spans, sent)
        try:
            self._writer.write(source)
        except Exception as exc:
            error: Exception | None = exc
        else:
            error = None
        deque(source, maxlen=0)  # find the spans the writer did not get to
        return self._account(error, sent, taken=taken, retried=retried)

    def _settle(self) -> bool:
        """Wait for the batch on the committer thread, if any, and account for it."""
        committing, self._committing = self._committing, None
        if committing is None:
            return True
        try:
            committing.finished.result()
        except Exception as exc:
            return self._account(exc, committing.sent, taken=committing.taken)
        return self._account(None, committing.sent, taken=committing.taken)

    def _committer(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="trace-store-commit")
        return self._pool

    def _account(
        self,
        error: Exception | None,
        sent: list[Pending],
        *,
        taken: int = 0,
        retried: int = 0,
    ) -> bool:
        """Count a batch of the ``sent`` spans written, kept for retry or dropped, in one step
        with taking its spans off the head of the buffer (``taken``) or of the retries
        (``retried``); spans of the batch that could not be converted count as dropped."""
        retry = error is not None and not isinstance(error, _PERMANENT)
        with self._lock:
            taken = min(taken, len(self._buffer))
            for _ in range(taken):
                self._buffer.popleft()
            retried = min(retried, len(self._inflight))
            del self._inflight[:retried]
            unconverted = taken + retried - len(sent)
            self._dropped += unconverted
            if error is None:
                self._written += len(sent)
            elif not retry:
                self._dropped += len(sent)
            else:
                self._inflight.extend(sent)
            self._idle.notify_all()
        if error is None:
            self._count_written()
        elif not retry:
            self._count_dropped(len(sent), error)
        else:
            with self._lock:
                self._failures += 1
                self._failed_writes += 1
                first = self._failures == 1
                self._last_error = _describe(error)
                self._idle.notify_all()
            if first:
                logger.warning(
                    "trace store unavailable, keeping spans to retry: %s", _describe(error)
                )
        return not retry

    def _count_written(self) -> None:
        with self._lock:
            if self._failures or self._dropping:
                logger.info("trace store writing again (%d spans dropped so far)", self._dropped)
            self._failures = 0
            self._dropping = False
            self._idle.notify_all()

    def _count_dropped(self, count: int, exc: Exception) -> None:
        with self._lock:
            self._last_error = _describe(exc)
            self._idle.notify_all()
        logger.error("trace store dropped %d span(s) it cannot write: %s", count, _describe(exc))


def _describe(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    lines = str(original).strip().splitlines()
    return f"{type(original).__name__}: {lines[0]}" if lines else type(original).__name__
