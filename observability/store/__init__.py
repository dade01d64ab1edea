"""The trace store: spans written off the request path to SQLite, PostgreSQL or TimescaleDB.

processor = create_store_processor("sqlite:///data/traces.db")
tracer_provider.add_span_processor(processor)
processor.stats()   # ExportStats(written=…, pending=…, dropped=…, last_error=…)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable

from sqlalchemy import Engine

from observability.store.database import prepare_store
from observability.store.day_indexes import index_next_day
from observability.store.dialect import StoreDialect, create_store_engine
from observability.store.errors import TraceStoreError
from observability.store.exporter import ExportStats, StoreSpanProcessor
from observability.store.rows import SpanRow
from observability.store.writer import Finish, SqlSpanWriter

logger = logging.getLogger("observability.store")

DAY_INDEX_CHECK_S = 600.0
"""Once every closed day has its text index, how often to look for a newly closed one."""


class LazyStoreWriter:
    """Prepares the store on the first write (so a store that is down at start-up only delays
    writing), then writes through ``SqlSpanWriter``; when idle, on plain PostgreSQL, builds the
    text index of each day once it is over (``index_days``; see ``day_indexes``)."""

    def __init__(
        self,
        engine: Engine,
        *,
        compress_after_days: int,
        drop_after_days: int,
        text_index: bool = False,
        index_days: bool = True,
    ) -> None:
        self._engine = engine
        self._compress_after_days = compress_after_days
        self._drop_after_days = drop_after_days
        self._text_index = text_index
        self._index_days = index_days and not text_index
        self._next_day_check = 0.0
        self._writer: SqlSpanWriter | None = None
        self._dialect: StoreDialect | None = None
        self._lock = threading.Lock()

    def write(self, rows: Iterable[SpanRow]) -> None:
        """Write one batch, creating the schema first if this is the first batch."""
        self.begin(rows)()

    def begin(self, rows: Iterable[SpanRow]) -> Finish:
        """Send one batch (see ``SqlSpanWriter.begin``), creating the schema first if need be."""
        with self._lock:
            if self._writer is None:
                dialect = prepare_store(
                    self._engine,
                    compress_after_days=self._compress_after_days,
                    drop_after_days=self._drop_after_days,
                    text_index=self._text_index,
                )
                self._writer = SqlSpanWriter(self._engine, dialect)
                self._dialect = dialect
        return self._writer.begin(rows)

    def maintain(self) -> None:
        """Build the next missing day's text index, if the store is plain PostgreSQL and one
        is missing; once none is, look again every ``DAY_INDEX_CHECK_S``."""
        if not self._index_days or self._dialect is not StoreDialect.POSTGRESQL:
            return
        if time.monotonic() < self._next_day_check:
            return
        self._next_day_check = time.monotonic() + DAY_INDEX_CHECK_S
        try:
            built = index_next_day(self._engine)
        except TraceStoreError as exc:
            logger.warning("%s", exc)
            self._index_days = False
            return
        if built is not None:
            self._next_day_check = 0.0


def create_store_processor(
    store_url: str,
    *,
    buffer_spans: int = 20_000,
    export_interval_ms: int = 500,
    compress_after_days: int = 7,
    drop_after_days: int = 90,
    text_index: bool = False,
    index_days: bool = True,
) -> StoreSpanProcessor:
    """A span processor writing to the store at ``store_url`` (``sqlite:///…`` or
    ``postgresql[+psycopg]://…``); tables are created idempotently on the first write
    (with ``text_index``, the trigram index for text search too: see ``prepare_store``).
    ``index_days`` has it build a text index for each day once the day is over, while idle
    (plain PostgreSQL; see ``observability.store.day_indexes``).

    Raises ``TraceStoreError`` only for a URL it cannot use; an unreachable store is retried.
    """
    engine = create_store_engine(store_url)
    writer = LazyStoreWriter(
        engine,
        compress_after_days=compress_after_days,
        drop_after_days=drop_after_days,
        text_index=text_index,
        index_days=index_days,
    )
    return StoreSpanProcessor(
        writer, buffer_spans=buffer_spans, export_interval_ms=export_interval_ms
    )


__all__ = [
    "ExportStats",
    "StoreDialect",
    "StoreSpanProcessor",
    "TraceStoreError",
    "create_store_engine",
    "create_store_processor",
    "prepare_store",
]
