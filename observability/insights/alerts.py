"""Alerts from anomalies and budgets, and their delivery to a webhook: signed, off the request
path, each alert once.

An alert is an incident (or a budget) in the *alert* state; its key is what it is and when it
began, so an incident that is still going on keeps its key. ``deliver_alerts`` claims a key in
the trace store's ``alerts_sent`` table before it POSTs (the table's primary key makes the claim
atomic across sessions and processes), marks it delivered on a 2xx answer, and lets the claim go
on failure so the next round tries again. The body is JSON; ``X-Observatory-Signature`` is
``sha256=`` and the hex HMAC-SHA256 of the exact body bytes under the webhook secret, so the
receiver recomputes it and compares (``hmac.compare_digest``). ``AlertWatcher`` runs the
evaluation and delivery every minute on its own thread, and tells its listeners (the API's
websocket ``anomaly`` event) of each anomaly it finds for the first time or finds grown into an
alert.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import httpx
from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    MetaData,
    String,
    Table,
    Text,
    delete,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from observability.insights.anomalies import Incident, SignalStatus, State
from observability.insights.budgets import BudgetStatus
from observability.queries import answering

logger = logging.getLogger("observability.insights")
SIGNATURE_HEADER = "X-Observatory-Signature"
DELIVERED, SENDING = "delivered", "sending"
ANOMALY, BUDGET = "anomaly", "budget"
_metadata = MetaData()
alerts_sent = Table(
    "alerts_sent",
    _metadata,
    Column("key", String(200), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True)),
    Column("payload", Text, nullable=False),
)


@dataclass(frozen=True)
class Alert:
    """Something an admin should hear about: an incident or a budget, with its link."""

    key: str
    kind: str
    """``anomaly`` or ``budget``."""
    state: State
    title: str
    size: str
    start: datetime
    end: datetime | None
    link: str

    def payload(self) -> dict[str, object]:
        """The JSON the webhook receives."""
        body = asdict(self)
        body["state"] = self.state.value
        body["start"] = self.start.isoformat()
        body["end"] = self.end.isoformat() if self.end else None
        return body


@dataclass(frozen=True)
class SentAlert:
    """A delivered alert as stored."""

    key: str
    delivered_at: datetime | None
    payload: dict[str, object]


def collect_alerts(
    statuses: Sequence[SignalStatus], budgets: Sequence[BudgetStatus]
) -> list[Alert]:
    """Every incident and budget in the warning or alert state, newest first."""
    alerts = [_incident_alert(i) for s in statuses for i in s.incidents]
    alerts += [_budget_alert(b) for b in budgets if b.state in (State.WARNING, State.ALERT)]
    return sorted(alerts, key=lambda a: a.start, reverse=True)


def sign(body: bytes, secret: str) -> str:
    """The signature header's value for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver_alerts(
    engine: Engine,
    alerts: Sequence[Alert],
    url: str,
    secret: str,
    *,
    client: httpx.Client | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> list[str]:
    """POST every alert-state alert not delivered before; returns the keys delivered now."""
    delivered = []
    http = client or httpx.Client(timeout=10.0)
    try:
        for alert in alerts:
            if alert.state is not State.ALERT:
                continue
            body = json.dumps(alert.payload(), separators=(",", ":"), sort_keys=True).encode()
            if not _claim(engine, alert.key, body, now()):
                continue
            if _post(http, url, body, secret):
                _mark_delivered(engine, alert.key, now())
                delivered.append(alert.key)
            else:
                _release(engine, alert.key)
    finally:
        if client is None:
            http.close()
    return delivered


def list_sent_alerts(engine: Engine, limit: int = 50) -> list[SentAlert]:
    """Delivered alerts, newest first."""
    query = (
        select(alerts_sent.c.key, alerts_sent.c.delivered_at, alerts_sent.c.payload)
        .where(alerts_sent.c.status == DELIVERED)
        .order_by(alerts_sent.c.delivered_at.desc())
        .limit(limit)
    )
    with answering(), engine.connect() as conn:
        _metadata.create_all(conn)
        rows = conn.execute(query).fetchall()
        conn.commit()
    return [SentAlert(str(k), _aware(d), json.loads(p)) for k, d, p in rows]


AnomalyListener = Callable[[dict[str, object]], None]
"""Told of an anomaly, with its ``Alert.payload()`` (what the webhook receives)."""


class AlertWatcher:
    """Evaluates the alerts every ``interval_s`` on a daemon thread, delivers them to the
    webhook at ``url`` (none: no delivery) and tells its listeners of new anomalies."""

    def __init__(
        self,
        engine: Engine,
        evaluate: Callable[[], list[Alert]],
        url: str | None,
        secret: str | None,
        *,
        interval_s: float = 60.0,
    ) -> None:
        self._engine, self._evaluate = engine, evaluate
        self._url, self._secret = url, secret
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._listeners: list[AnomalyListener] = []
        self._announced: set[tuple[str, State]] = set()

    def start(self) -> None:
        """Start watching (idempotent)."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="alert-watcher", daemon=True)
                self._thread.start()

    def listen(self, listener: AnomalyListener) -> None:
        """Call ``listener`` (on the watcher's thread) with each anomaly, an incident in the
        warning or alert state, the first time a round finds it and again if it grows from a
        warning into an alert; starts watching. A listener's failure is logged."""
        with self._lock:
            self._listeners.append(listener)
        self.start()

    def run_once(self) -> list[str]:
        """One evaluation, its new anomalies told and its alerts delivered (the keys
        delivered); failures are logged, never raised."""
        try:
            alerts = self._evaluate()
            self._announce(alerts)
            if self._url is None or self._secret is None:
                return []
            return deliver_alerts(self._engine, alerts, self._url, self._secret)
        except Exception:
            logger.exception("alerts could not be evaluated or delivered; trying again later")
            return []

    def close(self) -> None:
        """Stop the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5.0)

    def _announce(self, alerts: Sequence[Alert]) -> None:
        """Tell the listeners of the anomalies not told before in their state; remember
        only the ones still found (older incidents leave the evaluation's window)."""
        found = [a for a in alerts if a.kind == ANOMALY]
        with self._lock:
            listeners = list(self._listeners)
            new = [a for a in found if (a.key, a.state) not in self._announced]
            self._announced = {(a.key, a.state) for a in found}
        for alert in sorted(new, key=lambda a: a.start):
            for listener in listeners:
                try:
                    listener(alert.payload())
                except Exception:
                    logger.exception("an anomaly listener failed")

    def _run(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self._interval_s)


def _incident_alert(incident: Incident) -> Alert:
    return Alert(
        key=f"anomaly:{incident.signal.value}:{incident.start.isoformat()}",
        kind=ANOMALY,
        state=incident.state,
        title=f"{incident.signal.value} spike",
        size=incident.size,
        start=incident.start,
        end=incident.end,
        link=incident.traces_link,
    )


def _budget_alert(status: BudgetStatus) -> Alert:
    start = datetime.combine(status.day, datetime.min.time(), UTC)
    return Alert(
        key=f"budget:{status.scope}:{status.day.isoformat()}:{status.state.value}",
        kind=BUDGET,
        state=status.state,
        title="daily budget" if status.scope == "overall" else f"daily budget of {status.scope}",
        size=status.size,
        start=start,
        end=None,
        link=status.traces_link,
    )


def _claim(engine: Engine, key: str, body: bytes, at: datetime) -> bool:
    row = {"key": key, "status": SENDING, "claimed_at": at, "payload": body.decode()}
    try:
        with engine.begin() as conn:
            _metadata.create_all(conn)
            conn.execute(alerts_sent.insert().values(**row))
    except IntegrityError:
        return False
    except SQLAlchemyError:
        logger.warning("the alert %s could not be recorded; not sending it now", key)
        return False
    return True


def _post(http: httpx.Client, url: str, body: bytes, secret: str) -> bool:
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(body, secret)}
    try:
        answer = http.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        logger.warning("the alert webhook did not answer (%s); will try again", type(exc).__name__)
        return False
    if not answer.is_success:
        logger.warning("the alert webhook answered %s; will try again", answer.status_code)
    return answer.is_success


def _mark_delivered(engine: Engine, key: str, at: datetime) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(alerts_sent)
            .where(alerts_sent.c.key == key)
            .values(status=DELIVERED, delivered_at=at)
        )


def _release(engine: Engine, key: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(alerts_sent).where(alerts_sent.c.key == key))


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
