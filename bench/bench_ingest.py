"""Spans/s written through the store processor to PostgreSQL, beside a raw psycopg COPY.

    python -m bench.bench_ingest                 # 100,000 spans
    python -m bench.bench_ingest --spans 300000 --admin-url postgresql://postgres@127.0.0.1/test

The processor's figure includes span → row conversion, traces and rollups; the raw COPY figure
copies the same rows, already converted, into a bare table of the same shape (indexes
included: with ``--text-index``, the trigram index too). Spans reach the processor in the
order they end, as they do from a running app (the generator yields one conversation at a
time, its turns minutes apart).
"""

from __future__ import annotations

import argparse
import time
import uuid
from datetime import UTC, datetime

import psycopg

from bench._spans import generate_spans
from observability.store import create_store_processor
from observability.store.rows import span_to_row
from observability.store.schema import SPAN_COLUMNS


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--spans", type=int, default=100_000)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--text-index", action="store_true", help="with the trigram text index")
    args = parser.parse_args()
    name = f"so_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = args.admin_url.rpartition("/")[0] + f"/{name}"
    try:
        spans = sorted(
            generate_spans(args.spans, start=datetime.now(UTC), days=0.02),
            key=lambda span: span.end_time or 0,
        )
        processor = create_store_processor(
            url, buffer_spans=len(spans) + 1, text_index=args.text_index
        )
        warm = list(generate_spans(100, seed=99, start=datetime.now(UTC), days=0.01))
        for span in warm:
            processor.on_end(span)
        processor.force_flush()
        started = time.perf_counter()
        for span in spans:
            processor.on_end(span)
        assert processor.force_flush(600_000)
        ours = len(spans) / (time.perf_counter() - started)
        print(f"exporter : {ours:10,.0f} spans/s  ({processor.stats()})")
        processor.shutdown()
        rows = list(map(span_to_row, spans))
        with psycopg.connect(url) as conn:
            conn.execute("CREATE TABLE raw_spans (LIKE spans INCLUDING ALL)")
            conn.commit()
            started = time.perf_counter()
            for i in range(0, len(rows), 5_000):
                with conn.cursor().copy(
                    f"COPY raw_spans ({', '.join(SPAN_COLUMNS)}) FROM STDIN"
                ) as copy:
                    for row in rows[i : i + 5_000]:
                        copy.write_row(row)
                conn.commit()
            raw = len(rows) / (time.perf_counter() - started)
        print(f"raw COPY : {raw:10,.0f} spans/s")
        print(f"ratio    : {ours / raw:10.2f}  (target ≥ 0.5; exporter target ≥ 20,000 spans/s)")
    finally:
        with psycopg.connect(args.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
