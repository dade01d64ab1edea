"""PostgreSQL stopped for a minute under load: nothing lost, and the trace store's counts add up.

    python -m bench.bench_outage                       # all three set-ups, 60 s outage each
    python -m bench.bench_outage --setup traces --outage-seconds 30

Starts a private throwaway PostgreSQL cluster (``initdb`` + ``pg_ctl`` on its own port, never
the shared server), and for each set-up — ``traces`` (app database SQLite, trace store on
PostgreSQL), ``app`` (app database on PostgreSQL, traces in a SQLite file) and ``both`` (one
PostgreSQL database for both) — runs customers sending messages through the engine (simulator
at speed 0), stops the cluster ``--outage-seconds`` into the run and starts it again after the
outage. A customer whose message was refused (the database away) sends it again after 5 s, as
the chat tells them to. At the end: every message must be stored (none lost), and the trace
store's counts must add up (``ended = written + dropped + pending``, with nothing pending once
the store has caught up, and ``written`` equal to the rows in ``spans``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select, text

from core.conversation import TurnRequest
from core.db import create_db_engine, init_schema
from core.db.models import Message, MessageRole, Role, User
from core.errors import ObservatoryError
from core.services import Services, create_services
from core.settings import AppSettings, ProviderSettings, Settings
from observability.store import create_store_engine
from seed.loader import seed_database

PG_BIN = Path("/usr/lib/postgresql/15/bin")
QUESTION = "How long do I have to return boots I bought last month? (load #{number})"
RETRY_S = 5.0


class Cluster:
    """A throwaway PostgreSQL cluster in a temporary folder, on a free port."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="outage-pg-"))
        self.port = _free_port()
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root: run it as its own user
            shutil.chown(self.folder, "postgres")
        self._pg("initdb", "-D", self.folder / "data", "-U", "postgres", "-A", "trust")
        self.start()
        for name in ("app", "traces"):
            self._pg("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder}"
        data, log = self.folder / "data", self.folder / "log"
        self._pg("pg_ctl", "-D", data, "-o", options, "-w", "-l", log, "start")

    def stop(self) -> None:
        self._pg("pg_ctl", "-D", self.folder / "data", "-m", "immediate", "-w", "stop")

    def remove(self) -> None:
        self._pg("pg_ctl", "-D", self.folder / "data", "-m", "immediate", "stop", check=False)
        shutil.rmtree(self.folder, ignore_errors=True)

    def _pg(self, program: str, *arguments: object, check: bool = True) -> None:
        command = [str(PG_BIN / program), *map(str, arguments)]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=check, capture_output=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def build(
    folder: Path, database_url: str | None, trace_url: str | None, buffer_spans: int
) -> Services:
    tracing: dict[str, object] = {"buffer_spans": buffer_spans}
    if trace_url:
        tracing["store_url"] = trace_url
    settings = Settings(
        app=AppSettings(data_dir=folder, seed_on_start=False),
        providers=ProviderSettings(simulator_speed=0.0),
        database={"url": database_url} if database_url else {},  # type: ignore[arg-type]
        tracing=tracing,  # type: ignore[arg-type]
    )
    db = create_db_engine(settings.database_url)
    init_schema(db)
    seed_database(db, today=datetime.now(UTC).date(), timezone=settings.app.store_timezone)
    return create_services(settings, db)


def customers(services: Services, count: int) -> list[int]:
    from sqlmodel import Session
    from sqlmodel import select as sql_select

    with Session(services.db) as session:
        users = session.exec(sql_select(User).where(User.role == Role.CUSTOMER)).all()
    return [user.id or 0 for user in users][:count]


def run(setup: str, cluster: Cluster, args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix=f"outage-{setup}-"))
    database_url = {"traces": None, "app": cluster.url("app"), "both": cluster.url("app")}[setup]
    trace_url = {
        "traces": cluster.url("traces"),
        "app": f"sqlite:///{folder / 'traces.db'}",
        "both": None,
    }[setup]
    services = build(folder, database_url, trace_url, args.buffer_spans)
    users = customers(services, args.users)
    interval = 60.0 / args.per_minute
    total = int(args.seconds / interval)
    refusals = 0
    answered = 0
    lock = threading.Lock()
    started = time.perf_counter()
    give_up = started + args.seconds + args.outage_seconds + 120

    def customer(number: int) -> None:
        nonlocal refusals, answered
        request = TurnRequest(
            user_id=users[number % len(users)], text=QUESTION.format(number=number)
        )
        while time.perf_counter() < give_up:
            try:
                services.engine.send(request)
            except ObservatoryError:
                with lock:
                    refusals += 1
                time.sleep(RETRY_S)
                continue
            with lock:
                answered += 1
            return

    def outage() -> None:
        time.sleep(args.outage_at)
        cluster.stop()
        print(f"  [{time.perf_counter() - started:5.1f} s] PostgreSQL stopped")
        time.sleep(args.outage_seconds)
        cluster.start()
        print(f"  [{time.perf_counter() - started:5.1f} s] PostgreSQL started again")

    print(f"{setup}: app database {'PostgreSQL' if database_url else 'SQLite'}, trace store "
          f"{'SQLite' if setup == 'app' else 'PostgreSQL'}; {total} messages from {len(users)} "
          f"customers over {args.seconds:.0f} s, outage of {args.outage_seconds:.0f} s"
          )  # fmt: skip
    breaker = threading.Thread(target=outage)
    breaker.start()
    with ThreadPoolExecutor(max_workers=len(users)) as pool:
        for number in range(total):
            delay = started + number * interval - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(customer, number)
    breaker.join()
    caught_up = _drain(services, timeout_s=180)
    stats = services.observatory.store_stats()
    stored = _stored_messages(services)
    spans = _span_rows(services.settings.trace_store_url)
    services.close()
    lost = [n for n in range(total) if QUESTION.format(number=n) not in stored]
    print(f"  messages: {total} sent, {answered} answered, {refusals} refusals (then sent again), "
          f"{len(stored)} distinct stored, lost {len(lost)}")  # fmt: skip
    if stats is not None:
        adds_up = stats.ended == stats.written + stats.dropped + stats.pending
        verdict = "adds up" if adds_up else "DOES NOT ADD UP"
        print(f"  trace store: ended {stats.ended:,} = written {stats.written:,} + dropped "
              f"{stats.dropped:,} + pending {stats.pending:,} → {verdict}; "
              f"caught up: {caught_up}; rows in spans {spans:,}")  # fmt: skip
    shutil.rmtree(folder, ignore_errors=True)


def _drain(services: Services, *, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        services.observatory.force_flush(5_000)
        stats = services.observatory.store_stats()
        if stats is None or stats.pending == 0:
            return True
        time.sleep(1.0)
    return False


def _stored_messages(services: Services) -> set[str]:
    with services.db.connect() as conn:
        rows = conn.execute(
            select(Message.content).where(Message.role == MessageRole.USER)  # type: ignore[arg-type]
        ).scalars()
        return set(rows)


def _span_rows(url: str) -> int:
    engine = create_store_engine(url)
    with engine.connect() as conn:
        count = int(conn.execute(select(func.count()).select_from(text("spans"))).scalar_one())
    engine.dispose()
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setup", choices=["traces", "app", "both", "all"], default="all")
    parser.add_argument("--seconds", type=float, default=90.0, help="how long messages arrive")
    parser.add_argument("--per-minute", type=int, default=300)
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--outage-at", type=float, default=10.0)
    parser.add_argument("--outage-seconds", type=float, default=60.0)
    parser.add_argument(
        "--buffer-spans", type=int, default=20_000, help="a small buffer shows drops counted"
    )
    args = parser.parse_args()
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("TRACE_STORE_URL", None)
    cluster = Cluster()
    try:
        for setup in ("traces", "app", "both") if args.setup == "all" else (args.setup,):
            run(setup, cluster, args)
    finally:
        cluster.remove()


if __name__ == "__main__":
    main()
