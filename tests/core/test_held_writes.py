"""The bounded retry of a message write, the process's held-message counts, and their gauges
on ``/metrics``."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import create_engine

from core.api import export_held_writes
from core.db.held import HeldWrites, retry_storage
from core.errors import StorageError
from observability.api import ApiConfig, create_api_services
from observability.api.clients import ClientRegistry
from observability.report_queries import ReportQueries


def _lost() -> StorageError:
    error = StorageError("gone")
    error.__cause__ = OperationalError("SELECT 1", {}, Exception("server closed the connection"))
    return error


def test_a_write_is_tried_again_while_the_connection_is_lost() -> None:
    tries: list[int] = []
    waits: list[float] = []

    def write() -> str:
        tries.append(1)
        if len(tries) < 3:
            raise _lost()
        return "stored"

    assert retry_storage(write, attempts=4, base_s=0.1, sleep=waits.append) == "stored"
    assert waits == [0.1, 0.2]


def test_retries_are_bounded() -> None:
    waits: list[float] = []

    def write() -> None:
        raise _lost()

    with pytest.raises(StorageError):
        retry_storage(write, attempts=3, base_s=1.0, max_s=1.5, sleep=waits.append)
    assert waits == [1.0, 1.5]


def test_a_refused_statement_is_not_tried_again() -> None:
    waits: list[float] = []
    refused = StorageError("duplicate")
    refused.__cause__ = IntegrityError("INSERT", {}, Exception("duplicate key"))

    def write() -> None:
        raise refused

    with pytest.raises(StorageError):
        retry_storage(write, attempts=5, base_s=0.1, sleep=waits.append)
    assert waits == []


def test_held_messages_are_counted_once_and_released() -> None:
    held = HeldWrites()
    held.hold("a")
    held.hold("a")
    held.hold("b")
    held.release("a")

    counts = held.counts()
    assert (counts.held, counts.held_total, counts.stored_after_wait) == (1, 2, 1)


def test_metrics_show_messages_held_for_the_app_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counts = HeldWrites()
    counts.hold("waiting")
    monkeypatch.setattr("core.api.HELD_WRITES", counts)
    store = create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    services = create_api_services(
        ApiConfig(jwt_key=b"k" * 32, export_dir=tmp_path / "exports"),
        ClientRegistry(store),
        ReportQueries(store),
    )

    export_held_writes(services)
    text = services.metrics.render(lambda: None)

    assert "observatory_app_db_held_messages 1\n" in text
    assert "observatory_app_db_held_messages_total 1\n" in text
