"""The Scenarios page's "Run all", timed: every scenario one after the other, as the page runs
them (target on this 2-core machine: within 90 s at the app's own simulator speed).

Seeds a new data folder with ``python -m seed`` (no demo history), builds the app's services
on embedded defaults (simulator at ``--speed``, default 1 as in the app; the app's bounded
request log) and runs the eight scenarios ``--rounds`` times (default 2: the first round pays
the model loads, the second is the warm "Run all" of a demo). Prints, per round and scenario,
the tokens, cost and latency of its run, then each round's total and the load average.

    python -m bench.bench_scenarios [--speed 1] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from bench._browser import seed_folder
from core.db import create_db_engine
from core.scenarios import SCENARIOS, ScenarioRun, run_scenario
from core.scenarios.proof import RecentRequests
from core.services import Services, create_services
from core.settings import load_settings

TARGET_S = 90.0


def run_all(services: Services) -> tuple[list[ScenarioRun], float]:
    """Every scenario in page order; the runs and the seconds the whole took."""
    started = time.perf_counter()
    runs = []
    for key in SCENARIOS:
        *_, last = run_scenario(services, key)
        assert isinstance(last, ScenarioRun)
        runs.append(last)
    return runs, time.perf_counter() - started


def report(round_number: int, runs: list[ScenarioRun], seconds: float) -> None:
    print(f"\nround {round_number}")
    print(f"{'scenario':<24} {'in tokens':>10} {'out tokens':>10} {'cost $':>10} {'latency s':>10}")
    for run in runs:
        flag = "" if run.error is None else f"  ERROR: {run.error}"
        print(
            f"{run.title:<24} {run.input_tokens:>10,} {run.output_tokens:>10,} "
            f"{run.cost_usd:>10.6f} {run.latency_ms / 1000:>10.2f}{flag}"
        )
    total_cost = sum(run.cost_usd for run in runs)
    verdict = "within" if seconds <= TARGET_S else "OVER"
    print(f"{'Run all':<24} {'':>10} {'':>10} {total_cost:>10.6f} {seconds:>10.2f}  "
          f"({verdict} the {TARGET_S:.0f} s target)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--speed", type=float, default=1.0, help="simulator speed (app: 1)")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = Path(scratch) / "data"
        print("seeding a new data folder…", flush=True)
        seed_folder(data_dir)
        os.environ |= {"DATA_DIR": str(data_dir), "SIMULATOR_SPEED": str(args.speed)}
        os.environ["APP__HISTORY_DAYS"] = "0"
        settings = load_settings()
        db = create_db_engine(settings.database_url)
        services = create_services(settings, db, recorder=RecentRequests())
        try:
            for round_number in range(1, args.rounds + 1):
                runs, seconds = run_all(services)
                report(round_number, runs, seconds)
        finally:
            services.close()
            db.dispose()
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"\nload average (1, 5, 15 min): {load}; {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
