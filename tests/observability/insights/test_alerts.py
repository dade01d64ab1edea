"""Alerts reach a local webhook receiver signed, once each, and again after a failed try."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import Engine

from observability.insights.alerts import (
    Alert,
    AlertWatcher,
    collect_alerts,
    deliver_alerts,
    list_sent_alerts,
)
from observability.insights.anomalies import Incident, Signal, SignalStatus, State
from observability.insights.budgets import BudgetStatus
from tests.observability.insights.store import open_store

SECRET = "s3cret"
AT = datetime(2026, 11, 20, 9, 40, tzinfo=UTC)


class Receiver:
    """A local HTTP server that records each POST and answers with ``status``."""

    def __init__(self) -> None:
        self.bodies: list[tuple[bytes, str]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.bodies.append((body, self.headers["X-Observatory-Signature"]))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def store(database_url: str) -> Engine:
    return open_store(database_url)


def _alerts() -> list[Alert]:
    spike = Incident(
        Signal.P95_LATENCY, State.ALERT, AT, AT + timedelta(minutes=12), 2700, 800, 300
    )
    small = Incident(Signal.COST, State.WARNING, AT, AT + timedelta(minutes=2), 0.2, 0.1, 50)
    statuses = [
        SignalStatus(Signal.P95_LATENCY, State.OK, 800, 800, (spike,)),
        SignalStatus(Signal.COST, State.OK, 0.1, 0.1, (small,)),
    ]
    budget = BudgetStatus("overall", date(2026, 11, 20), 50.0, 61.0, State.ALERT)
    return collect_alerts(statuses, [budget])


def test_alerts_are_posted_signed_and_only_once(store: Engine, receiver: Receiver) -> None:
    alerts = _alerts()

    first = deliver_alerts(store, alerts, receiver.url, SECRET)
    again = deliver_alerts(store, alerts, receiver.url, SECRET)

    assert sorted(first) == [
        "anomaly:p95 latency:2026-11-20T09:40:00+00:00",
        "budget:overall:2026-11-20:alert",
    ]
    assert again == []
    assert len(receiver.bodies) == 2
    for body, signature in receiver.bodies:
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(signature, expected)
    payloads = {json.loads(body)["kind"]: json.loads(body) for body, _ in receiver.bodies}
    assert payloads["anomaly"]["size"] == "p95 3.4× its baseline for 12 min"
    assert payloads["anomaly"]["link"].startswith("/traces?start=2026-11-20T09%3A40")
    assert payloads["budget"]["state"] == "alert"
    assert {s.key for s in list_sent_alerts(store)} == set(first)


def test_failed_delivery_is_tried_again(store: Engine, receiver: Receiver) -> None:
    receiver.status = 503

    assert deliver_alerts(store, _alerts(), receiver.url, SECRET) == []
    receiver.status = 200
    delivered = deliver_alerts(store, _alerts(), receiver.url, SECRET)

    assert len(delivered) == 2
    assert len(receiver.bodies) == 4
    assert len(list_sent_alerts(store)) == 2


def test_watcher_delivers_on_its_own_thread(store: Engine, receiver: Receiver) -> None:
    seen = threading.Event()

    def evaluate() -> list[Alert]:
        seen.set()
        return _alerts()

    watcher = AlertWatcher(store, evaluate, receiver.url, SECRET, interval_s=0.05)
    watcher.start()
    try:
        assert seen.wait(5)
        deadline = datetime.now(UTC) + timedelta(seconds=5)
        while len(list_sent_alerts(store)) < 2 and datetime.now(UTC) < deadline:
            threading.Event().wait(0.05)
    finally:
        watcher.close()

    assert len(receiver.bodies) == 2
