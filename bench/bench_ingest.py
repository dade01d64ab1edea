"""Spans/s written through the store processor to PostgreSQL, beside a raw psycopg COPY.

    python -m bench.bench_ingest                 # 100,000 spans, 3 rounds
    python -m bench.bench_ingest --spans 200000 --rounds 5 --admin-url postgresql://postgres@127.0.0.1/test

The processor's figure includes span → row conversion, traces and rollups; the raw COPY figure
copies the same rows, already converted, into a bare table of the same shape (indexes
included: with ``--text-index``, the trigram index too). Spans reach the processor in the
order they end, as they do from a running app (the generator yields one conversation at a
time, its turns minutes apart). Each round runs both in a new database, one after the other, so
that the machine's drift over minutes touches both alike; the medians are printed last.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import psycopg
from opentelemetry.sdk.trace import ReadableSpan

from bench._spans import generate_spans
from observability.store import create_store_processor
from observability.store.exporter import BATCH_SPANS
from observability.store.rows import SpanRow, span_to_row
from observability.store.schema import SPAN_COLUMNS


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--spans", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3, help="exporter and raw COPY, in turn")
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--text-index", action="store_true", help="with the trigram text index")
    args = parser.parse_args()
    spans = sorted(
        generate_spans(args.spans, start=datetime.now(UTC), days=0.02),
        key=lambda span: span.end_time or 0,
    )
    rows = list(map(span_to_row, spans))
    results = []
    for number in range(1, args.rounds + 1):
        with _database(args.admin_url) as url:
            ours = _through_exporter(url, spans, text_index=args.text_index)
            raw = _raw_copy(url, rows)
        results.append((ours, raw))
        print(f"round {number}: exporter {ours:8,.0f} spans/s, raw COPY {raw:8,.0f} spans/s, "
              f"ratio {ours / raw:.2f}")  # fmt: skip
    ours, raw = (statistics.median(figures) for figures in zip(*results, strict=True))
    ratio = statistics.median(o / r for o, r in results)
    print(f"exporter : {ours:10,.0f} spans/s  (median of {args.rounds}; target ≥ 20,000)")
    print(f"raw COPY : {raw:10,.0f} spans/s")
    print(f"ratio    : {ratio:10.2f}  (median of the rounds' ratios; target ≥ 0.5)")


@contextmanager
def _database(admin_url: str) -> Iterator[str]:
    """A new, empty database (its URL), dropped afterwards."""
    name = f"so_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rpartition("/")[0] + f"/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _through_exporter(url: str, spans: list[ReadableSpan], *, text_index: bool) -> float:
    """Spans/s from handing ``spans`` to the store processor until all are committed."""
    processor = create_store_processor(url, buffer_spans=len(spans) + 1, text_index=text_index)
    warm = list(generate_spans(100, seed=99, start=datetime.now(UTC), days=0.01))
    for span in warm:
        processor.on_end(span)
    processor.force_flush()
    started = time.perf_counter()
    for span in spans:
        processor.on_end(span)
    assert processor.force_flush(600_000)
    elapsed = time.perf_counter() - started
    stats = processor.stats()
    processor.shutdown()
    assert stats.dropped == 0 and stats.written == len(spans) + len(warm), stats
    return len(spans) / elapsed


def _raw_copy(url: str, rows: list[SpanRow]) -> float:
    """Spans/s from a plain COPY of ``rows`` into a bare table shaped like ``spans``, one
    transaction per processor batch."""
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE raw_spans (LIKE spans INCLUDING ALL)")
        conn.commit()
        started = time.perf_counter()
        statement = f"COPY raw_spans ({', '.join(SPAN_COLUMNS)}) FROM STDIN"
        for i in range(0, len(rows), BATCH_SPANS):
            with conn.cursor().copy(statement) as copy:
                for row in rows[i : i + BATCH_SPANS]:
                    copy.write_row(row)
            conn.commit()
        return len(rows) / (time.perf_counter() - started)


if __name__ == "__main__":
    main()
