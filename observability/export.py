"""Export of the filtered spans of a time range as CSV, JSON lines or Parquet, streamed.

for chunk in iter_export(engine, window, AnalyticsFilters(provider="openai"), ExportFormat.CSV):
    out.write(chunk)

The spans are read through a server-side cursor (PostgreSQL) or SQLite's own row-by-row cursor,
``chunk_rows`` at a time, and each chunk is encoded and handed over before the next is read: a
million spans never sit in memory together. Parquet writes one row group per chunk. The filters
are the Analytics page's, with the same meaning: summing the exported LLM calls (rows with an
``operation`` and a ``provider``) gives the page's totals for the same range.
"""

from __future__ import annotations

import csv
import io
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any, assert_never

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Boolean, ColumnElement, Engine, Float, Integer, Select, func, select

from observability.queries import AnalyticsFilters, Window, answering
from observability.store.rollups import dimension_columns
from observability.store.schema import SPAN_COLUMNS, UtcDateTime, spans

COLUMNS: tuple[str, ...] = tuple(str(name) for name in SPAN_COLUMNS)
"""The export's columns: every column of ``spans``, in the table's order."""
CHUNK_ROWS = 10_000
"""Spans read, encoded and handed over at a time (and Parquet's row group size)."""


class ExportFormat(StrEnum):
    """A file format of the export."""

    CSV = "csv"
    JSONL = "jsonl"
    PARQUET = "parquet"

    @property
    def mime(self) -> str:
        """The media type of a file in this format."""
        match self:
            case ExportFormat.CSV:
                return "text/csv"
            case ExportFormat.JSONL:
                return "application/x-ndjson"
            case ExportFormat.PARQUET:
                return "application/vnd.apache.parquet"
            case _:
                assert_never(self)


def export_select(window: Window, filters: AnalyticsFilters) -> Select[Any]:
    """The spans that start in ``window`` and match ``filters``, oldest first."""
    c = spans.c
    return (
        select(*(c[name] for name in COLUMNS))
        .where(c.start_time >= window.start, c.start_time < window.end, *span_filters(filters))
        .order_by(c.start_time, c.trace_id, c.span_id)
    )


def count_spans(engine: Engine, window: Window, filters: AnalyticsFilters) -> int:
    """How many spans an export of ``window`` with ``filters`` holds."""
    c = spans.c
    query = select(func.count()).where(
        c.start_time >= window.start, c.start_time < window.end, *span_filters(filters)
    )
    with answering(), engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def span_filters(filters: AnalyticsFilters) -> list[ColumnElement[bool]]:
    """``filters`` as conditions on ``spans`` rows, with the rollups' meaning of each key."""
    dimensions = dimension_columns()
    conditions = [dimensions[key] == value for key, value in filters.call_keys().items()]
    if filters.customer is not None:
        conditions.append(spans.c.user_id == filters.customer)
    return conditions


def iter_export(
    engine: Engine,
    window: Window,
    filters: AnalyticsFilters,
    fmt: ExportFormat,
    *,
    chunk_rows: int = CHUNK_ROWS,
) -> Iterator[bytes]:
    """The export file of the spans in ``window`` matching ``filters``, in pieces of about
    ``chunk_rows`` spans; an empty range still gives a valid file (a header, nothing, or a
    Parquet file with no rows). Raises ``TraceStoreUnavailable`` if the store fails."""
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be at least 1.")
    encoder = _encoder(fmt)
    with answering(), engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=chunk_rows).execute(
            export_select(window, filters)
        )
        for part in result.partitions(chunk_rows):
            yield encoder.encode(part)
    yield encoder.finish()


class _Encoder(ABC):
    """Encodes chunks of span rows (tuples in ``COLUMNS`` order) into one file."""

    @abstractmethod
    def encode(self, rows: Sequence[Sequence[Any]]) -> bytes:
        """The bytes of ``rows``, to follow what was encoded before."""

    def finish(self) -> bytes:
        return b""


def _encoder(fmt: ExportFormat) -> _Encoder:
    match fmt:
        case ExportFormat.CSV:
            return _CsvEncoder()
        case ExportFormat.JSONL:
            return _JsonLinesEncoder()
        case ExportFormat.PARQUET:
            return _ParquetEncoder()
        case _:
            assert_never(fmt)


def _text(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


class _CsvEncoder(_Encoder):
    def __init__(self) -> None:
        self._header = True

    def encode(self, rows: Sequence[Sequence[Any]]) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        if self._header:
            writer.writerow(COLUMNS)
            self._header = False
        writer.writerows([_text(v) for v in row] for row in rows)
        return buffer.getvalue().encode()

    def finish(self) -> bytes:
        return ",".join(COLUMNS).encode() + b"\n" if self._header else b""


class _JsonLinesEncoder(_Encoder):
    def encode(self, rows: Sequence[Sequence[Any]]) -> bytes:
        return b"".join(
            orjson.dumps(dict(zip(COLUMNS, row, strict=True)), default=str) + b"\n" for row in rows
        )


def _arrow_type(name: str) -> pa.DataType:
    column_type = spans.c[name].type
    if isinstance(column_type, UtcDateTime):
        return pa.timestamp("us", tz="UTC")
    if isinstance(column_type, Boolean):
        return pa.bool_()
    if isinstance(column_type, Integer):
        return pa.int64()
    if isinstance(column_type, Float):
        return pa.float64()
    return pa.string()


SCHEMA = pa.schema([(name, _arrow_type(name)) for name in COLUMNS])
"""The Parquet export's columns: the ``spans`` table's, with their types."""


class _Drain(io.RawIOBase):
    """A write-only file whose written bytes are taken out as they come (Parquet's sink)."""

    def __init__(self) -> None:
        self._pending = bytearray()
        self._written = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data)
        self._pending += view
        self._written += view.nbytes
        return view.nbytes

    def tell(self) -> int:
        return self._written

    def take(self) -> bytes:
        taken = bytes(self._pending)
        self._pending.clear()
        return taken


class _ParquetEncoder(_Encoder):
    def __init__(self) -> None:
        self._sink = _Drain()
        self._writer = pq.ParquetWriter(self._sink, SCHEMA, compression="zstd")

    def encode(self, rows: Sequence[Sequence[Any]]) -> bytes:
        columns = list(zip(*rows, strict=True))
        table = pa.Table.from_arrays(
            [
                pa.array(list(values), type=field.type)
                for values, field in zip(columns, SCHEMA, strict=True)
            ],
            schema=SCHEMA,
        )
        self._writer.write_table(table, row_group_size=max(len(rows), 1))
        return self._sink.take()

    def finish(self) -> bytes:
        self._writer.close()
        return self._sink.take()
