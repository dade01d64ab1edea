"""The store processor: spans reach the database, and a store that is away never loses spans
within the buffer bound nor drops any without counting them."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from bench._spans import generate_spans
from observability.store import (
    LazyStoreWriter,
    create_store_engine,
    create_store_processor,
    prepare_store,
)
from observability.store.exporter import ExportStats, StoreSpanProcessor
from observability.store.rows import SpanRow, span_to_row
from observability.store.schema import PLAIN_TABLES, spans, traces
from observability.store.writer import SqlSpanWriter


class FlakyWriter:
    """A writer that fails while ``down`` is set, else keeps the rows it was given."""

    def __init__(self, error: Exception | None = None) -> None:
        self.down = True
        self.error = error or OperationalError("COPY", {}, Exception("connection refused"))
        self.rows: list[SpanRow] = []

    def write(self, rows: Sequence[SpanRow]) -> None:
        if self.down:
            raise self.error
        self.rows.extend(rows)


def test_spans_and_traces_reach_the_store(database_url: str) -> None:
    processor = create_store_processor(database_url, export_interval_ms=10)
    sent = list(generate_spans(300, seed=3))
    for span in sent:
        processor.on_end(span)
    assert processor.force_flush(20_000)
    processor.shutdown()
    engine = create_store_engine(database_url)
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(spans)).scalar_one()
        trace_count = conn.execute(select(func.count()).select_from(traces)).scalar_one()
        events = conn.execute(select(spans.c.events).where(spans.c.status == "error")).first()
    engine.dispose()
    assert stored == len(sent)
    assert trace_count == len({s.context.trace_id for s in sent if s.context})
    assert events is not None and "retry" in str(events[0])
    assert processor.stats().written == len(sent)
    assert processor.stats().dropped == 0


def test_store_down_then_back_loses_nothing_within_the_bound() -> None:
    writer = FlakyWriter()
    processor = StoreSpanProcessor(writer, buffer_spans=100, batch_size=30, start_thread=False)
    for span in generate_spans(80, seed=1):
        processor.on_end(span)
    assert processor.export_batch() is False
    waiting = processor.stats()
    assert waiting.written == 0 and waiting.dropped == 0 and waiting.pending >= 80
    assert waiting.last_error is not None and "connection refused" in waiting.last_error
    writer.down = False
    assert processor.force_flush()
    assert len(writer.rows) == waiting.pending
    assert processor.stats().pending == 0


def test_a_span_that_cannot_be_stored_is_dropped_once_though_its_batch_is_retried() -> None:
    sent = list(generate_spans(40, seed=3))
    broken = sent[7]

    def row_of(span: ReadableSpan) -> SpanRow:
        if span is broken:
            raise ValueError("span has no context")
        return span_to_row(span)

    writer = FlakyWriter()
    processor = StoreSpanProcessor(writer, batch_size=30, start_thread=False, row_of=row_of)
    for span in sent:
        processor.on_end(span)
    assert processor.export_batch() is False
    assert processor.export_batch() is False
    writer.down = False
    assert processor.force_flush()

    assert len(writer.rows) == len(sent) - 1
    stats = processor.stats()
    assert (stats.written, stats.pending, stats.dropped) == (len(sent) - 1, 0, 1)


def test_a_batch_takes_at_most_half_the_buffer() -> None:
    writer = FlakyWriter()
    writer.down = False
    processor = StoreSpanProcessor(writer, buffer_spans=40, start_thread=False)
    for span in list(generate_spans(40, seed=8))[:40]:
        processor.on_end(span)

    assert processor.export_batch()

    assert processor.stats() == ExportStats(
        written=20, pending=20, dropped=0, last_error=None, ended=40
    )


def test_spans_beyond_the_bound_are_counted_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    writer = FlakyWriter()
    processor = StoreSpanProcessor(writer, buffer_spans=50, batch_size=20, start_thread=False)
    sent = list(generate_spans(120, seed=2))
    for span in sent:
        processor.on_end(span)
    processor.export_batch()
    stats = processor.stats()
    assert stats.pending == 50
    assert stats.dropped == len(sent) - 50
    assert "buffer full" in caplog.text
    writer.down = False
    assert processor.force_flush()
    assert len(writer.rows) == 50 and processor.stats().dropped == len(sent) - 50


def test_batch_the_store_rejects_is_dropped_and_counted() -> None:
    writer = FlakyWriter(IntegrityError("COPY", {}, Exception("duplicate key")))
    processor = StoreSpanProcessor(writer, batch_size=1_000, start_thread=False)
    for span in generate_spans(10, seed=4):
        processor.on_end(span)
    assert processor.export_batch() is True
    stats = processor.stats()
    assert stats.pending == 0 and stats.dropped >= 10
    assert stats.last_error is not None and "duplicate key" in stats.last_error


def test_unreachable_store_does_not_block_span_end() -> None:
    engine = create_store_engine("postgresql://nobody@127.0.0.1:1/none")
    writer = LazyStoreWriter(engine, compress_after_days=7, drop_after_days=90)
    processor = StoreSpanProcessor(
        writer, buffer_spans=10, export_interval_ms=10, shutdown_timeout_ms=50
    )
    for span in generate_spans(30, seed=5):
        processor.on_end(span)
    assert processor.force_flush(50) is False
    processor.shutdown()
    assert processor.stats().written == 0
    assert processor.stats().dropped >= 20


class PipelinedWriter:
    """Sends a batch in ``begin``; its finish waits (up to half a second) for the next batch to
    be sent, fails once when ``fail_first_finish``, else keeps the rows."""

    def __init__(self, *, fail_first_finish: bool = False) -> None:
        self.rows: list[SpanRow] = []
        self.events: list[str] = []
        self.fail_next = fail_first_finish
        self._sent = threading.Condition()
        self._batches = 0

    def write(self, rows: Sequence[SpanRow]) -> None:
        self.begin(rows)()

    def begin(self, rows: Iterable[SpanRow]) -> Callable[[], None]:
        batch = list(rows)
        with self._sent:
            number = self._batches
            self._batches += 1
            self.events.append(f"sent {number}")
            self._sent.notify_all()

        def finish() -> None:
            with self._sent:
                self._sent.wait_for(lambda: self._batches > number + 1, timeout=0.5)
            if self.fail_next:
                self.fail_next = False
                raise OperationalError("COMMIT", {}, Exception("server closed the connection"))
            self.events.append(f"finished {number}")
            self.rows.extend(batch)

        return finish


def test_next_batch_is_sent_while_the_store_finishes_the_one_before() -> None:
    writer = PipelinedWriter()
    processor = StoreSpanProcessor(writer, batch_size=20, start_thread=False)
    sent = list(generate_spans(60, seed=6))
    for span in sent:
        processor.on_end(span)

    assert processor.force_flush()

    assert writer.events[:2] == ["sent 0", "sent 1"]
    assert len(writer.rows) == len(sent)
    assert len({(r.trace_id, r.span_id) for r in writer.rows}) == len(sent)
    assert processor.stats() == ExportStats(len(sent), 0, 0, None, len(sent))


def test_a_batch_whose_commit_fails_is_kept_and_written_once() -> None:
    writer = PipelinedWriter(fail_first_finish=True)
    processor = StoreSpanProcessor(writer, batch_size=20, start_thread=False)
    sent = list(generate_spans(60, seed=7))
    for span in sent:
        processor.on_end(span)

    processor.export_batch()
    processor.export_batch()
    assert processor.stats().pending == len(sent)
    assert processor.force_flush()

    assert len(writer.rows) == len(sent)
    assert len({(r.trace_id, r.span_id) for r in writer.rows}) == len(sent)
    stats = processor.stats()
    assert stats.written == len(sent) and stats.dropped == 0
    assert stats.last_error is not None and "server closed" in stats.last_error


@pytest.mark.postgres
@pytest.mark.parametrize("dialect", ["postgresql"])
def test_a_store_made_by_an_earlier_version_still_takes_spans(database_url: str) -> None:
    """Stores made before money became double precision and attributes plain text (in a
    schema of its own: the session's database holds other tests' spans of the same seed)."""
    engine = create_store_engine(database_url)
    dialect = prepare_store(engine, compress_after_days=7, drop_after_days=90)
    with engine.begin() as conn:
        for table in (t for t in PLAIN_TABLES if "cost_usd" in t.c):
            conn.exec_driver_sql(
                f"ALTER TABLE {table.name} ALTER COLUMN cost_usd TYPE numeric(18, 10)"
            )
        conn.exec_driver_sql(
            "ALTER TABLE spans ALTER COLUMN attributes TYPE jsonb USING attributes::jsonb"
        )
    rows = [span_to_row(s) for s in generate_spans(200, seed=5)]
    SqlSpanWriter(engine, dialect).write(rows)
    with engine.connect() as conn:
        stored = conn.exec_driver_sql(
            "SELECT sum(cost_usd), count(*), "
            "count(*) FILTER (WHERE attributes ? 'gen_ai.operation.name') FROM spans"
        ).one()
    engine.dispose()
    assert float(stored[0]) == pytest.approx(sum(r.cost_usd or 0 for r in rows))
    assert stored[1] == len(rows)
    assert stored[2] == sum(r.operation is not None for r in rows)


class UpkeepWriter:
    """Keeps rows; counts upkeep calls, the first of which fails."""

    def __init__(self) -> None:
        self.rows: list[SpanRow] = []
        self.upkeep = 0
        self.kept_up = threading.Event()

    def write(self, rows: Iterable[SpanRow]) -> None:
        self.rows.extend(rows)

    def maintain(self) -> None:
        self.upkeep += 1
        if self.upkeep == 1:
            raise RuntimeError("index build timed out")
        self.kept_up.set()


def test_the_writer_is_kept_up_while_idle_and_its_upkeep_failing_stops_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    writer = UpkeepWriter()
    processor = StoreSpanProcessor(writer, export_interval_ms=10)
    sent = list(generate_spans(50, seed=7))
    for span in sent:
        processor.on_end(span)
    assert processor.force_flush(5_000)
    assert writer.kept_up.wait(5)
    assert "index build timed out" in caplog.text
    more = list(generate_spans(20, seed=8))
    for span in more:
        processor.on_end(span)
    assert processor.force_flush(5_000)
    processor.shutdown()
    assert len(writer.rows) == processor.stats().written == len(sent) + len(more)


def test_flushing_while_the_store_is_away_returns_at_once_and_keeps_the_spans() -> None:
    writer = FlakyWriter()
    processor = StoreSpanProcessor(writer, export_interval_ms=10, max_backoff_s=0.05)
    for span in generate_spans(30, seed=9):
        processor.on_end(span)

    flushed = [processor.force_flush(30_000) for _ in range(3)]
    waiting = processor.stats()
    writer.down = False
    back = processor.force_flush(30_000)
    processor.shutdown()

    assert flushed == [False, False, False]
    assert waiting.failing and waiting.pending == waiting.ended
    assert back and processor.stats().written == waiting.ended
