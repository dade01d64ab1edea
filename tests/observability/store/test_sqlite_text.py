"""The SQLite text index: the idle writer fills ``span_text`` a chunk at a time, and text
search finds through it (and a scan of the spans not yet in it) what a scan finds."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from bench._spans import generate_spans
from observability.queries import TraceFilters, TraceQueries
from observability.store import LazyStoreWriter, create_store_engine, prepare_store
from observability.store.rows import SpanRow, span_to_row
from observability.store.sqlite_text import create_text_table, index_new_spans, indexed_upto
from observability.store.writer import SqlSpanWriter

START = datetime(2026, 10, 1, tzinfo=UTC)
MARKER = "Zebra-Quartz"


def _rows(count: int, seed: int) -> list[SpanRow]:
    return [span_to_row(s) for s in generate_spans(count, seed=seed, start=START, days=2)]


def _marked(rows: list[SpanRow], at: int) -> list[SpanRow]:
    marked = rows[at]._replace(name=f"tool {MARKER.lower()} {uuid.uuid4().hex[:6]}")
    return [*rows[:at], marked, *rows[at + 1 :]]


def _store(path: Path) -> tuple[Engine, SqlSpanWriter]:
    engine = create_store_engine(f"sqlite:///{path}")
    dialect = prepare_store(engine, compress_after_days=7, drop_after_days=90)
    return engine, SqlSpanWriter(engine, dialect)


def _upto(engine: Engine) -> int | None:
    with engine.connect() as conn:
        return indexed_upto(conn)


INDEXED = _marked(_rows(500, seed=1), at=40)
LATER = _marked(_rows(200, seed=2), at=7)
"""Spans written after the last indexing: the search scans them."""


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, Engine]:
    folder = tmp_path_factory.mktemp("fts")
    indexed, indexed_writer = _store(folder / "indexed.db")
    plain, plain_writer = _store(folder / "plain.db")
    indexed_writer.write(INDEXED)
    plain_writer.write(INDEXED)
    create_text_table(indexed)
    while index_new_spans(indexed, limit=150):
        pass
    indexed_writer.write(LATER)
    plain_writer.write(LATER)
    return indexed, plain


def test_spans_are_indexed_a_chunk_at_a_time_and_new_ones_after(tmp_path: Path) -> None:
    engine, writer = _store(tmp_path / "traces.db")
    writer.write(INDEXED)
    assert _upto(engine) is None
    create_text_table(engine)
    assert _upto(engine) == 0
    assert index_new_spans(engine, limit=300) == 300
    assert index_new_spans(engine, limit=300) == len(INDEXED) - 300
    assert index_new_spans(engine, limit=300) == 0
    writer.write(LATER)
    assert index_new_spans(engine, limit=1_000) == len(LATER)
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT count(*) FROM span_text WHERE name LIKE :p"), {"p": f"%{MARKER}%"}
        ).scalar()
    assert found == 2


@pytest.mark.parametrize(
    ("term", "since"),
    [
        (MARKER, None),
        (MARKER.upper(), datetime(2026, 10, 1, 12, tzinfo=UTC)),
        ("RateLimited", None),
        ("lookup_order", datetime(2026, 10, 2, tzinfo=UTC)),
        ("no such words", None),
    ],
)
def test_text_search_through_span_text_finds_what_a_scan_finds(
    stores: tuple[Engine, Engine], term: str, since: datetime | None
) -> None:
    indexed, plain = stores
    filters = TraceFilters(start=since, text=term)
    found = TraceQueries(indexed).list_traces(filters, page_size=1_000).traces
    scanned = TraceQueries(plain).list_traces(filters, page_size=1_000).traces
    assert list(found["trace_id"]) == list(scanned["trace_id"])
    if term == MARKER:
        assert {INDEXED[40].trace_id, LATER[7].trace_id} <= set(found["trace_id"])


def test_the_idle_writer_fills_span_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("observability.store.SPAN_TEXT_CHECK_S", 0.0)
    monkeypatch.setattr("observability.store.CHUNK", 150)
    engine = create_store_engine(f"sqlite:///{tmp_path / 'traces.db'}")
    writer = LazyStoreWriter(engine, compress_after_days=7, drop_after_days=90)
    writer.write(INDEXED)
    writer.maintain()
    assert _upto(engine) == 150
    for _ in range(4):
        writer.maintain()
    assert _upto(engine) == len(INDEXED)
    writer.write(LATER)
    writer.maintain()
    writer.maintain()
    assert _upto(engine) == len(INDEXED) + len(LATER)
