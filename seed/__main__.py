"""``python -m seed``: create the schema if needed and load the demo data; safe to run again.

``python -m seed --history [DAYS]`` also makes the demo history (default 14 days) through the
real engine on a simulated clock; a second run adds only what is missing.
"""

from __future__ import annotations

import argparse
import sys
import threading

from core.db import create_db_engine
from core.errors import ObservatoryError
from core.services import create_services
from core.settings import load_settings, redact_url
from seed.history import DEFAULT_DAYS, HistoryProgress, load_history
from seed.setup import SeedSummary, prepare_database, prepare_demo, seed_demo

REPORT_EVERY_S = 5.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m seed", description=__doc__)
    parser.add_argument(
        "--history",
        type=int,
        nargs="?",
        const=DEFAULT_DAYS,
        metavar="DAYS",
        help=f"also make DAYS days of demo history (default {DEFAULT_DAYS})",
    )
    args = parser.parse_args(argv)
    if args.history is not None and args.history < 1:
        parser.error("--history needs at least one day.")
    try:
        if args.history is None:
            summary = prepare_demo(progress=_say)
        else:
            summary = _with_history(args.history)
    except ObservatoryError as exc:
        print(f"Seeding failed: {exc}", file=sys.stderr)
        return 1
    print(
        f"Done: {redact_url(summary.database_url)} — added {summary.rows_added} rows and "
        f"{summary.documents_added} knowledge-base documents."
    )
    return 0


def _with_history(days: int) -> SeedSummary:
    settings = load_settings()
    engine = create_db_engine(settings.database_url)
    prepare_database(engine)
    services = create_services(settings, engine)
    try:
        summary = seed_demo(settings, engine, services.kb, _say)
        progress = HistoryProgress()
        done = threading.Event()
        reporter = threading.Thread(target=_report, args=(progress, done), daemon=True)
        reporter.start()
        try:
            load_history(services, days, progress=progress, say=_say)
        finally:
            done.set()
            reporter.join()
        return summary
    finally:
        services.close()
        engine.dispose()


def _report(progress: HistoryProgress, done: threading.Event) -> None:
    while not done.wait(REPORT_EVERY_S):
        _say(f"  {progress.done:,} of {progress.total - progress.already:,} conversations made")


def _say(message: str) -> None:
    print(message, flush=True)


if __name__ == "__main__":
    sys.exit(main())
