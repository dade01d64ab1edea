"""The whole insight set over a million stored spans: experiment, anomalies, budgets,
recommendations — what the Analytics page's three panels compute for a 30-day range.

    python -m bench.bench_insights                       # 1,000,000 spans, PostgreSQL
    python -m bench.bench_insights --spans 200000 --backend sqlite --runs 3

The spans (``bench._spans``: 30 days up to now, conversations in the ``prompt-v2`` experiment
split between ``control`` and ``treatment``, 6 % of turns falling back) are loaded into a fresh
store by the store's own writer (``bench.bench_queries.load_stores``), so ``traces`` and the
rollups are the production ones; PostgreSQL then gets the ``VACUUM ANALYZE`` autovacuum runs
on an insert-only table (the visibility map lets the insight indexes answer without the heap).
Each step runs once to warm caches, then ``--runs`` times; the table shows each step's median
and the median of the whole set run end to end. Target: the whole set ≤ 1 s on PostgreSQL.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from sqlalchemy import Engine, text

from bench.bench_queries import DAYS, load_stores
from observability.insights import ExperimentSpec, Metric
from observability.insights.anomalies import detect_anomalies
from observability.insights.budgets import Budgets, check_budgets
from observability.insights.experiments import analyse_experiment
from observability.insights.recommendations import recommend
from observability.queries import Window
from observability.store import create_store_engine

TARGET_MS = 1_000.0
SPEC = ExperimentSpec("prompt-v2", ("control", "treatment"), Metric.COST_PER_CONVERSATION)
BUDGETS = Budgets(overall=500.0, per_customer=1.0)


def steps(engine: Engine, now: datetime) -> dict[str, Callable[[], object]]:
    """The insight set for the 30 days up to ``now``, one call per step."""
    month = Window(now - timedelta(days=DAYS), now)
    day = Window(now - timedelta(days=1), now)

    def everything() -> object:
        result = analyse_experiment(engine, SPEC, now)
        detect_anomalies(engine, day)
        detect_anomalies(engine, month)
        check_budgets(engine, BUDGETS, now.date())
        return recommend(engine, month, [result])

    return {
        "experiment prompt-v2 (30 d)": lambda: analyse_experiment(engine, SPEC, now),
        "anomalies, minutes (24 h)": lambda: detect_anomalies(engine, day),
        "anomalies, hours (30 d)": lambda: detect_anomalies(engine, month),
        "budgets (today)": lambda: check_budgets(engine, BUDGETS, now.date()),
        "recommendations (30 d)": lambda: recommend(engine, month),
        "the whole set": everything,
    }


def median_ms(run: Callable[[], object], runs: int) -> float:
    """Median wall time of ``run`` over ``runs`` calls after one warm-up call."""
    run()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--backend", default="postgres", choices=("postgres", "sqlite"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=20_000)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    name = f"so_ibench_{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as folder:
        if args.backend == "postgres":
            with psycopg.connect(args.admin_url, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            engine = create_store_engine(args.admin_url.rpartition("/")[0] + f"/{name}")
        else:
            engine = create_store_engine(f"sqlite:///{Path(folder) / 'traces.db'}")
        try:
            now = datetime.now(UTC).replace(microsecond=0)
            seconds = load_stores([engine], args.spans, args.batch, now)
            print(f"loaded {args.spans:,} spans into {engine.dialect.name} in {seconds:,.0f} s")
            if args.backend == "postgres":
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.execute(text("VACUUM ANALYZE"))
            result = analyse_experiment(engine, SPEC, now)
            print(f"verdict: {result.verdict}")
            for item in recommend(engine, Window(now - timedelta(days=DAYS), now), [result]):
                print(
                    f"recommendation: {item.title}: ${item.savings_usd:,.2f} ({item.spans:,} spans)"
                )
            print(f"{'step':<32} {'median ms':>10}")
            for label, run in steps(engine, now).items():
                took = median_ms(run, args.runs)
                mark = "" if label != "the whole set" else ("  ✓" if took <= TARGET_MS else "  ✗")
                print(f"{label:<32} {took:>10,.0f}{mark}")
        finally:
            engine.dispose()
            if args.backend == "postgres":
                with psycopg.connect(args.admin_url, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
