"""How fast the demo history is made: the first start's short pass and the full history.

Seeds a fresh SQLite app in a temporary folder, then runs ``load_history`` (the real engine on
the simulated clock) for the short pass and then the rest, and prints conversations, turns and
spans per second of each. Run ``python -m bench.bench_history [--days N]`` (default 14).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from core.db import create_db_engine
from core.db.models import Message, MessageRole
from core.services import Services, create_services
from core.settings import AppSettings, ProviderSettings, Settings
from observability.store import prepare_store
from observability.store.schema import spans
from seed.history import HistoryProgress, load_history
from seed.setup import prepare_database, seed_demo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=14)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings(
            app=AppSettings(data_dir=Path(scratch), seed_on_start=False),
            providers=ProviderSettings(simulator_speed=1.0),
        )
        db = create_db_engine(settings.database_url)
        prepare_database(db)
        tracing = settings.tracing
        prepare_store(
            db,
            compress_after_days=tracing.compress_after_days,
            drop_after_days=tracing.drop_after_days,
            text_index=tracing.text_index,
        )
        services = create_services(settings, db)
        seed_demo(settings, db, services.kb)
        print(f"demo history of {args.days} days (load average {os.getloadavg()[0]:.1f}):")
        for label, short in (("short pass (first start)", True), ("the rest", False)):
            before = _counts(services)
            started = time.perf_counter()
            progress = load_history(services, args.days, short=short, progress=HistoryProgress())
            services.observatory.force_flush()
            seconds = time.perf_counter() - started
            turns, stored = (a - b for a, b in zip(_counts(services), before, strict=True))
            print(
                f"  {label:<25} {progress.done:6,} conversations {turns:6,} turns "
                f"{stored:7,} spans in {seconds:6.1f} s: {progress.done / seconds:5.1f} conv/s, "
                f"{stored / seconds:6.0f} spans/s"
            )
        services.close()
        db.dispose()


def _counts(services: Services) -> tuple[int, int]:
    with services.db.connect() as connection:
        turns = connection.scalar(
            select(func.count()).select_from(Message).where(Message.role == MessageRole.USER)
        )
        stored = connection.scalar(select(func.count()).select_from(spans))
    return int(turns or 0), int(stored or 0)


if __name__ == "__main__":
    main()
