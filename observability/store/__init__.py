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
from functools import partial

from sqlalchemy import Engine

from observability.pricing import PRICE_BOOK, list_price_overrides
from observability.store.database import prepare_store
from observability.store.day_indexes import index_next_day
from observability.store.dialect import StoreDialect, create_store_engine
from observability.store.errors import TraceStoreError
from observability.store.exporter import ExportStats, StoreSpanProcessor
from observability.store.rows import SpanRow
from observability.store.sqlite_text import CHUNK, create_text_table, index_new_spans
from observability.store.timescale_text import copy_next_day, create_search_tables
from observability.store.writer import Finish, SqlSpanWriter

logger = logging.getLogger("observability.store")

DAY_INDEX_CHECK_S = 600.0
"""PostgreSQL: once every closed day has its text index, how often to look for a new one."""
PRICE_REFRESH_S = 60.0
"""How often the idle writer re-reads the admins' price overrides."""
SPAN_TEXT_CHECK_S = 5.0
"""SQLite: once every span is in the text index, how often to index the spans written since."""


class LazyStoreWriter:
    """Prepares the store on the first write (so a store that is down at start-up only delays
    writing), then writes through ``SqlSpanWriter``; with ``idle_text_index``, it builds the
    text indexes when idle (see ``maintain``)."""

    def __init__(
        self,
        engine: Engine,
        *,
        compress_after_days: int,
        drop_after_days: int,
        text_index: bool = False,
        idle_text_index: bool = True,
    ) -> None:
        self._engine = engine
        self._compress_after_days = compress_after_days
        self._drop_after_days = drop_after_days
        self._text_index = text_index
        self._idle_text_index = idle_text_index and not text_index
        self._next_check = 0.0
        self._next_prices = time.monotonic() + PRICE_REFRESH_S
        self._span_text_ready = False
        self._search_ready = False
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
        """One step of building the text indexes, if one is due: on plain PostgreSQL the index
        of the newest closed day without one (``day_indexes``), on TimescaleDB the copy of the
        newest closed day without a current one (``timescale_text``), on SQLite the next spans
        not yet in ``span_text`` (``sqlite_text``)."""
        if not self._idle_text_index or time.monotonic() < self._next_check:
            return
        match self._dialect:
            case StoreDialect.POSTGRESQL:
                self._next_check = time.monotonic() + DAY_INDEX_CHECK_S
                try:
                    built = index_next_day(self._engine)
                except TraceStoreError as exc:
                    logger.warning("%s", exc)
                    self._idle_text_index = False
                    return
                if built is not None:
                    self._next_check = 0.0
            case StoreDialect.TIMESCALEDB:
                self._next_check = time.monotonic() + DAY_INDEX_CHECK_S
                try:
                    if not self._search_ready:
                        create_search_tables(self._engine)
                        self._search_ready = True
                    copied = copy_next_day(self._engine)
                except TraceStoreError as exc:
                    logger.warning("%s", exc)
                    self._idle_text_index = False
                    return
                if copied is not None:
                    self._next_check = 0.0
            case StoreDialect.SQLITE:
                self._next_check = time.monotonic() + SPAN_TEXT_CHECK_S
                if not self._span_text_ready:
                    create_text_table(self._engine)
                    self._span_text_ready = True
                if index_new_spans(self._engine, limit=CHUNK) == CHUNK:
                    self._next_check = 0.0
            case _:
                return


def create_store_processor(
    store_url: str,
    *,
    buffer_spans: int = 20_000,
    export_interval_ms: int = 500,
    compress_after_days: int = 7,
    drop_after_days: int = 90,
    text_index: bool = False,
    idle_text_index: bool = True,
) -> StoreSpanProcessor:
    """A span processor writing to the store at ``store_url`` (``sqlite:///…`` or
    ``postgresql[+psycopg]://…``); tables are created idempotently on the first write
    (with ``text_index``, the trigram index for text search too: see ``prepare_store``).
    ``idle_text_index`` has it build text indexes for the trace list's text search while it
    has nothing to write: on plain PostgreSQL one per day once the day is over
    (``observability.store.day_indexes``), on TimescaleDB an indexed copy of each day's text
    (``observability.store.timescale_text``), on SQLite an FTS5 trigram table
    (``observability.store.sqlite_text``).

    Raises ``TraceStoreError`` only for a URL it cannot use; an unreachable store is retried.
    """
    engine = create_store_engine(store_url)
    PRICE_BOOK.attach(partial(list_price_overrides, engine))
    writer = LazyStoreWriter(
        engine,
        compress_after_days=compress_after_days,
        drop_after_days=drop_after_days,
        text_index=text_index,
        idle_text_index=idle_text_index,
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
