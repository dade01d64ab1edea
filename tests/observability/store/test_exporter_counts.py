"""The store processor's counts always add up: every span that ended is written, dropped or
pending (``ended == written + dropped + pending``), whatever order batches succeed, fail for a
while, fail for good or are retried in — and once the store is back, every span not counted
as dropped is written exactly once."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from enum import Enum

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.trace import ReadableSpan
from sqlalchemy.exc import IntegrityError, OperationalError

from bench._spans import generate_spans
from observability.store.exporter import ExportStats, StoreSpanProcessor
from observability.store.rows import SpanRow, span_to_row


class Outcome(Enum):
    OK = "ok"
    AWAY = "away"
    """The store is away: the batch is kept and retried."""
    REJECTED = "rejected"
    """The store refuses the batch for good: it is dropped."""


def _raise_for(outcome: Outcome) -> None:
    if outcome is Outcome.AWAY:
        raise OperationalError("COMMIT", {}, Exception("server closed the connection"))
    if outcome is Outcome.REJECTED:
        raise IntegrityError("COPY", {}, Exception("duplicate key"))


class ScriptedWriter:
    """Sends and finishes batches as scripted (then succeeds), keeping the rows it commits."""

    def __init__(self, sends: list[Outcome], finishes: list[Outcome]) -> None:
        self.sends: Iterator[Outcome] = iter(sends)
        self.finishes: Iterator[Outcome] = iter(finishes)
        self.rows: list[SpanRow] = []

    def write(self, rows: Iterable[SpanRow]) -> None:
        self.begin(rows)()

    def begin(self, rows: Iterable[SpanRow]) -> Callable[[], None]:
        outcome = next(self.sends, Outcome.OK)
        batch = list(rows)
        _raise_for(outcome)

        def finish() -> None:
            _raise_for(next(self.finishes, Outcome.OK))
            self.rows.extend(batch)

        return finish


class PlainWriter:
    """The same without the pipelined ``begin`` (as on SQLite)."""

    def __init__(self, sends: list[Outcome], finishes: list[Outcome]) -> None:
        self.sends: Iterator[Outcome] = iter(sends)
        self.finishes: Iterator[Outcome] = iter(finishes)
        self.rows: list[SpanRow] = []

    def write(self, rows: Iterable[SpanRow]) -> None:
        _raise_for(next(self.sends, Outcome.OK))
        batch = list(rows)
        _raise_for(next(self.finishes, Outcome.OK))
        self.rows.extend(batch)


def _adds_up(stats: ExportStats) -> bool:
    return stats.ended == stats.written + stats.dropped + stats.pending


SPANS = list(generate_spans(300, seed=11))[:300]
outcomes = st.lists(st.sampled_from(Outcome), max_size=12)
steps = st.lists(st.one_of(st.integers(1, 25), st.just("export")), min_size=1, max_size=30)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sends=outcomes,
    finishes=outcomes,
    script=steps,
    pipelined=st.booleans(),
    unconvertible=st.sets(st.integers(0, 299), max_size=5),
    buffer_spans=st.integers(20, 80),
    batch_size=st.integers(1, 30),
)
def test_ended_is_always_written_plus_dropped_plus_pending(
    sends: list[Outcome],
    finishes: list[Outcome],
    script: list[int | str],
    pipelined: bool,
    unconvertible: set[int],
    buffer_spans: int,
    batch_size: int,
) -> None:
    spans = SPANS
    broken = {id(spans[i]) for i in unconvertible if i < len(spans)}

    def row_of(span: ReadableSpan) -> SpanRow:
        if id(span) in broken:
            raise ValueError("span has no context")
        return span_to_row(span)

    writer = ScriptedWriter(sends, finishes) if pipelined else PlainWriter(sends, finishes)
    processor = StoreSpanProcessor(
        writer,
        buffer_spans=buffer_spans,
        batch_size=batch_size,
        start_thread=False,
        row_of=row_of,
    )
    ended = iter(spans)
    for step in script:
        if step == "export":
            processor.export_batch()
        else:
            for span in [s for _, s in zip(range(int(step)), ended, strict=False)]:
                processor.on_end(span)
        assert _adds_up(processor.stats()), processor.stats()

    flushed = [processor.force_flush() for _ in range(len(sends) + len(finishes) + 1)]
    assert flushed[-1]
    processor.shutdown()

    stats = processor.stats()
    assert _adds_up(stats), stats
    assert stats.pending == 0
    keys = [(row.trace_id, row.span_id) for row in writer.rows]
    assert len(keys) == len(set(keys)), "a span was written twice"
    assert stats.written == len(keys)
