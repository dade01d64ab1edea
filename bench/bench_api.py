"""The Analytics API over a million stored spans: GET latency, websocket event delay, and OTLP
ingest throughput against a raw write through the store processor.

    python -m bench.bench_api                        # 1,000,000 spans on PostgreSQL
    python -m bench.bench_api --spans 100000 --backend sqlite

The spans (``bench._spans``, 30 days up to now) are loaded into a fresh store (a scratch
PostgreSQL database, dropped afterwards, or a SQLite file) by ``bench.bench_queries``'s
loader. The API (``create_api``) is served by uvicorn on a free port in this process, as
``uvicorn app:app`` would, and called over HTTP by httpx2: each GET once to warm, then
``--runs`` times (p50/p95; targets p95 ≤ 100 ms on PostgreSQL). The websocket delay is from a
trace's root span ending (an Observatory writing to the same store) to its ``trace_created``
event arriving at a subscribed client (target ≤ 1 s). Ingest sends ``--ingest`` fresh spans as
OTLP in batches of 512 (whole traces as the app makes them: parents, kinds, statuses, events
and every attribute, their cost included), protobuf then JSON, one request at a time, retrying a
503 after a moment, and counts spans/s until the store has written them all; the raw figure
offers the same kind of spans, 512 at a time, straight to a ``StoreSpanProcessor`` and waits
the same way. The three run in turn for ``--rounds`` rounds; medians are printed last (targets
≥ 20,000 spans/s on PostgreSQL and ≥ 0.5 of the raw figure). Both store processors have their
idle text indexing off: on the loaded history it builds one text index per past day, seconds
each on the writer thread, which would land in whichever figure happened to be running.
``--ingest-only`` skips the GETs and the websocket.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import httpx2
import orjson
import psycopg
import uvicorn
from opentelemetry.sdk.trace import ReadableSpan
from websockets.sync.client import connect

from bench._spans import generate_spans
from bench.bench_queries import load_stores
from observability import Observatory
from observability.api import (
    ApiConfig,
    ClientRegistry,
    Tier,
    create_api,
    create_api_services,
)
from observability.report_queries import ReportQueries
from observability.store import create_store_engine, create_store_processor
from tests.api.otlp_payloads import json_request, protobuf_request

BATCH = 512
SERVICE = "bench"
"""The generated spans' ``service.name``."""
LIMITS = {Tier.FREE: 10**7, Tier.STANDARD: 10**7, Tier.ENTERPRISE: 10**7}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@contextmanager
def serve(app: object) -> Iterator[str]:
    """``app`` under uvicorn on a free port in a thread; yields its URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning")  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def time_gets(
    http: httpx2.Client, paths: dict[str, tuple[str, dict[str, object]]], runs: int
) -> None:
    print(f"\n{'GET':<58} {'p50 ms':>8} {'p95 ms':>8}")
    for label, (path, params) in paths.items():
        warm = http.get(path, params=params)
        assert warm.status_code == 200, (path, warm.text[:300])
        took = []
        for _ in range(runs):
            began = time.perf_counter()
            answer = http.get(path, params=params)
            took.append((time.perf_counter() - began) * 1000)
            assert answer.status_code == 200
        print(f"{label:<58} {percentile(took, 0.5):>8.1f} {percentile(took, 0.95):>8.1f}")


def websocket_delay(url: str, token: str, observatory: Observatory, traces: int) -> list[float]:
    """Milliseconds from each root span's end to its event's arrival."""
    delays: list[float] = []
    with connect(url.replace("http", "ws", 1) + f"/ws?token={token}") as socket:
        socket.recv(10)
        socket.send(json.dumps({"type": "subscribe", "events": ["trace_created"]}))
        socket.recv(10)
        for _ in range(traces):
            with observatory.span("turn"), observatory.span("retrieval kb"):
                pass
            ended = time.time_ns()
            event = json.loads(socket.recv(10))
            assert event["type"] == "trace_created"
            delays.append((time.time_ns() - ended) / 1e6)
            time.sleep(0.05)
    return delays


def fresh_spans(count: int) -> list[ReadableSpan]:
    now = datetime.now(UTC)
    start = now - timedelta(minutes=5)
    return list(generate_spans(count, seed=int(time.time()), start=start, days=0.003))


def as_payload(span: ReadableSpan) -> dict[str, object]:
    """``span`` as ``tests.api.otlp_payloads`` takes it: ids, parent, kind, status, every
    attribute (its cost included) and its events, so the receiver stores what the raw write
    does."""
    context = span.context
    assert context is not None
    payload: dict[str, object] = {
        "trace_id": context.trace_id.to_bytes(16, "big"),
        "span_id": context.span_id.to_bytes(8, "big"),
        "name": span.name,
        "kind": span.kind.value + 1,  # the SDK counts from INTERNAL = 0, OTLP from 1
        "start": span.start_time,
        "end": span.end_time,
        "attributes": dict(span.attributes or {}),
        "status": span.status.status_code.value,
        "status_message": span.status.description or "",
        "events": [(e.name, e.timestamp, dict(e.attributes or {})) for e in span.events],
    }
    if span.parent is not None:
        payload["parent_id"] = span.parent.span_id.to_bytes(8, "big")
    return payload


def wait_written(stats: Callable[[], object], target: int) -> None:
    while getattr(stats(), "written") < target:  # noqa: B009
        time.sleep(0.02)


class Rate(NamedTuple):
    """Spans/s, and this process's CPU time per span meanwhile (client, API and writer: a
    figure the machine's load touches far less than the rate)."""

    spans_per_s: float
    cpu_us_per_span: float


@contextmanager
def measured(count: int) -> Iterator[list[Rate]]:
    """Times the block; the ``Rate`` of ``count`` spans is in the yielded list afterwards. The
    garbage of making the inputs is collected first, so that its collection does not land in
    whichever figure runs next."""
    out: list[Rate] = []
    gc.collect()
    began, cpu = time.perf_counter(), time.process_time()
    yield out
    took, cpu_took = time.perf_counter() - began, time.process_time() - cpu
    out.append(Rate(count / took, cpu_took / count * 1e6))


def ingest_rate(http: httpx2.Client, token: str, spans: list[ReadableSpan], fmt: str,
                stats: Callable[[], object]) -> Rate:  # fmt: skip
    payloads = [as_payload(s) for s in spans]
    batches = [payloads[i : i + BATCH] for i in range(0, len(payloads), BATCH)]
    if fmt == "protobuf":
        bodies = [protobuf_request(b, service=SERVICE) for b in batches]
        content_type = "application/x-protobuf"
    else:
        bodies = [orjson.dumps(json_request(b, service=SERVICE)) for b in batches]
        content_type = "application/json"
    headers = {"Content-Type": content_type, "Authorization": f"Bearer {token}"}
    before = getattr(stats(), "written")  # noqa: B009
    with measured(len(spans)) as rate:
        for body in bodies:
            while (
                answer := http.post("/v1/traces", content=body, headers=headers)
            ).status_code == 503:
                time.sleep(0.02)
            assert answer.status_code == 200, answer.text
        wait_written(stats, before + len(spans))
    return rate[0]


def raw_rate(store_url: str, spans: list[ReadableSpan]) -> Rate:
    processor = create_store_processor(store_url, idle_text_index=False)
    with measured(len(spans)) as rate:
        for i in range(0, len(spans), BATCH):
            while not processor.offer(spans[i : i + BATCH]):
                time.sleep(0.02)
        wait_written(processor.stats, len(spans))
    processor.shutdown()
    return rate[0]


def compare_ingest(http: httpx2.Client, token: str, store_url: str,
                   stats: Callable[[], object], args: argparse.Namespace) -> None:  # fmt: skip
    """Rounds of OTLP protobuf, OTLP JSON and the raw write in turn (so that the machine's
    drift touches all three alike), each on fresh spans; the medians, and the median of the
    rounds' ratios to the raw write."""
    title = f"ingest ({args.ingest:,} spans, batches of 512)"
    print(f"\n{title:<44} {'protobuf':>10} {'json':>10} {'raw':>10}")
    rounds: list[tuple[Rate, Rate, Rate]] = []
    for number in range(1, args.rounds + 1):
        protobuf = ingest_rate(http, token, fresh_spans(args.ingest), "protobuf", stats)
        as_json = ingest_rate(http, token, fresh_spans(args.ingest), "json", stats)
        raw = raw_rate(store_url, fresh_spans(args.ingest))
        rounds.append((protobuf, as_json, raw))
        print_row(f"round {number} (spans/s)", [r.spans_per_s for r in rounds[-1]], ",.0f")
    columns = list(zip(*rounds, strict=True))
    spans_per_s = [statistics.median(r.spans_per_s for r in rates) for rates in columns]
    cpu = [statistics.median(r.cpu_us_per_span for r in rates) for rates in columns]
    print_row("median (spans/s)", spans_per_s, ",.0f")
    ratios = [
        statistics.median(r[i].spans_per_s / r[2].spans_per_s for r in rounds) for i in (0, 1)
    ]
    print_row("median ratio to raw (target ≥ 0.5)", ratios, ".2f")
    print_row("median CPU µs per span in this process", cpu, ".1f")


def print_row(label: str, figures: list[float], spec: str) -> None:
    print(f"{label:<44}" + "".join(f" {format(f, spec):>10}" for f in figures))


def run(store_url: str, args: argparse.Namespace, folder: Path) -> None:
    engine = create_store_engine(store_url)
    now = datetime.now(UTC).replace(microsecond=0)
    seconds = load_stores([engine], args.spans, 10_000, now)
    print(f"loaded {args.spans:,} spans in {seconds:,.0f} s")
    observatory = Observatory(
        service_name="bench-api", store_url=store_url, export_interval_ms=50, idle_text_index=False
    )
    config = ApiConfig(jwt_key=b"b" * 32, export_dir=folder / "exports", tier_limits=LIMITS)
    services = create_api_services(config, ClientRegistry(engine), ReportQueries(engine))
    services.readiness.sink = observatory
    observatory.tracer_provider.add_span_processor(services.trace_events)
    scopes = ["traces:read", "metrics:read", "costs:read", "ingest:write"]
    made = services.clients.create("bench", scopes, Tier.ENTERPRISE)
    with serve(create_api(services)) as url, httpx2.Client(base_url=url, timeout=60) as http:
        token = http.post("/api/v1/auth/token", json={"client_id": made.client.client_id,
                          "client_secret": made.secret}).json()["access_token"]  # fmt: skip
        http.headers["Authorization"] = f"Bearer {token}"
        one = http.get("/api/v1/traces", params={"limit": 1}).json()["data"][0]["trace_id"]
        day = {"start": (now - timedelta(days=1)).isoformat(), "end": now.isoformat()}
        week = {"start": (now - timedelta(days=7)).isoformat(), "end": now.isoformat()}
        month = {"start": (now - timedelta(days=30)).isoformat(), "end": now.isoformat()}
        paths = {
            "traces (newest 50)": ("/api/v1/traces", {"limit": 50}),
            "traces provider=anthropic, 7 d, limit 100":
                ("/api/v1/traces", {"provider": "anthropic", "limit": 100, **week}),
            "traces/{id}": (f"/api/v1/traces/{one}", {}),
            "metrics/performance 24 h by hour": ("/api/v1/metrics/performance", day),
            "metrics/performance 7 d by day and model": (
                "/api/v1/metrics/performance", {"granularity": "day", "group_by": "model", **week}
            ),
            "metrics/quality 24 h": ("/api/v1/metrics/quality", day),
            "costs/analytics 30 d by day":
                ("/api/v1/costs/analytics", {"granularity": "day", **month}),
            "costs/breakdown by model, 30 d": ("/api/v1/costs/breakdown", {"by": "model", **month}),
            "costs/breakdown by customer, 7 d":
                ("/api/v1/costs/breakdown", {"by": "customer", **week}),
            "models/compare 7 d": ("/api/v1/models/compare", week),
        }  # fmt: skip
        if not args.ingest_only:
            time_gets(http, paths, args.runs)
            delays = websocket_delay(url, token, observatory, 20)
            p50, p95 = percentile(delays, 0.5), percentile(delays, 0.95)
            print(f"\nwebsocket trace_created after the root span ends: p50 {p50:.1f} ms, "
                  f"p95 {p95:.1f} ms, max {max(delays):.1f} ms")  # fmt: skip
        compare_ingest(http, token, store_url, observatory.store_stats, args)
    services.exports.close()
    observatory.shutdown()
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--ingest", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3, help="of protobuf, JSON and raw ingest")
    parser.add_argument("--ingest-only", action="store_true", help="skip the GETs and websocket")
    parser.add_argument("--backend", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        if args.backend == "sqlite":
            run(f"sqlite:///{Path(folder) / 'traces.db'}", args, Path(folder))
            return
        name = f"bench_api_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.postgres_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            run(args.postgres_url.rpartition("/")[0] + f"/{name}", args, Path(folder))
        finally:
            with psycopg.connect(args.postgres_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
