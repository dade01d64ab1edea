"""The demo history: the real engine's spans and rows dated over the past days, labelled demo,
with the incident, feedback and escalations; live traffic meanwhile stays on the real clock."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session

from core.conversation import TurnRequest
from core.db import create_db_engine
from core.db.models import Conversation, Feedback, Message, Ticket
from core.services import Services, create_services
from core.settings import AppSettings, ProviderSettings, Settings
from observability.store.schema import spans as spans_table
from seed.history import HistoryProgress, describe_history, load_history
from seed.history_plan import plan_history
from seed.setup import prepare_database, seed_demo

DAYS = 2
ZONE = "America/Los_Angeles"


@dataclass
class Loaded:
    services: Services
    db: Engine
    first: HistoryProgress
    second: HistoryProgress
    live_trace_ids: list[str]
    started: datetime

    def spans(self) -> list[dict[str, object]]:
        with self.db.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(select(spans_table))]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    """A seeded SQLite app with the short pass of a two-day history, made on a thread while
    three live turns run; then the same load again."""
    data_dir: Path = tmp_path_factory.mktemp("history") / "data"
    settings = Settings(
        app=AppSettings(data_dir=data_dir, seed_on_start=False),
        providers=ProviderSettings(simulator_speed=0.0),
    )
    db = create_db_engine(settings.database_url)
    prepare_database(db)
    services = create_services(settings, db)
    started = datetime.now(UTC)
    seed_demo(settings, db, services.kb)
    first = HistoryProgress()
    worker = threading.Thread(
        target=load_history, args=(services, DAYS), kwargs={"short": True, "progress": first}
    )
    worker.start()
    live = [
        services.engine.send(TurnRequest(user_id=5, text=text)).trace_id
        for text in ("What are your support hours?", "How long do refunds take?")
    ]
    worker.join()
    live.append(services.engine.send(TurnRequest(user_id=5, text="Do gift cards expire?")).trace_id)
    second = load_history(services, DAYS, short=True)
    services.observatory.force_flush()
    yield Loaded(services, db, first, second, [t for t in live if t], started)
    services.close()
    db.dispose()


def test_the_plan_has_a_daily_and_weekly_rhythm() -> None:
    plan = plan_history(14, end=datetime(2026, 12, 7, 20, tzinfo=UTC), timezone=ZONE, customers=60)
    local = [c.starts_at.astimezone(plan.incident.down_from.tzinfo) for c in plan.conversations]
    by_hour = Counter(moment.hour for moment in local)
    weekday = sum(1 for m in local if m.weekday() < 5) / 10
    weekend = sum(1 for m in local if m.weekday() >= 5) / 4

    assert 2_000 <= len(plan.conversations) <= 4_000
    assert by_hour[14] > 3 * by_hour[3]
    assert weekday > 1.3 * weekend
    assert plan.incident.down_from.weekday() < 5


def test_history_conversations_are_dated_over_the_past_days(loaded: Loaded) -> None:
    with Session(loaded.db) as session:
        demo = [
            c for c in session.exec(select(Conversation)).scalars() if c.created_at < loaded.started
        ]
    days = {c.created_at.date() for c in demo}

    assert len(demo) == loaded.first.total > 20
    assert len(days) >= 2
    assert min(c.created_at for c in demo) >= loaded.started - timedelta(days=DAYS, hours=2)


def test_history_spans_come_from_the_real_pipeline_labelled_demo(loaded: Loaded) -> None:
    demo = [s for s in loaded.spans() if s["start_time"] < loaded.started]
    names = Counter(str(s["name"]).split(" ")[0] for s in demo)
    environments = {
        json.loads(str(s["attributes"])).get("deployment.environment.name") for s in demo
    }

    assert environments == {"demo"}
    assert {"turn", "route", "attempt", "chat", "retrieval", "embeddings"} <= set(names)


def test_the_incident_falls_back_to_anthropic_in_its_window(loaded: Loaded) -> None:
    plan = plan_history(DAYS, end=_recorded_end(loaded), timezone=ZONE, customers=60)
    down_from, until = plan.incident.down_from, plan.incident.until
    failed = [s for s in loaded.spans() if s["provider"] == "openai" and s["error_type"] == "503"]
    outage_traces = {s["trace_id"] for s in failed}
    rescued = [
        s
        for s in loaded.spans()
        if s["trace_id"] in outage_traces
        and s["provider"] == "anthropic"
        and s["operation"] == "chat"
        and s["error_type"] is None
    ]
    fallbacks = [s for s in loaded.spans() if s["fallback_reason"]]

    assert failed and all(down_from <= s["start_time"] < until for s in failed)
    assert len(rescued) >= len(outage_traces) * 0.8
    assert fallbacks and all(down_from <= s["start_time"] < until for s in fallbacks)


def test_the_description_gives_the_outage_in_utc_like_the_charts(loaded: Loaded) -> None:
    plan = plan_history(DAYS, end=_recorded_end(loaded), timezone=ZONE, customers=60)
    down_from = plan.incident.down_from.astimezone(UTC)
    until = plan.incident.until.astimezone(UTC)

    described = describe_history(loaded.db, ZONE)

    assert described is not None
    assert f"{down_from:%H:%M} to {until:%H:%M} UTC" in described
    assert ZONE in described


def test_openai_slows_down_before_the_outage(loaded: Loaded) -> None:
    plan = plan_history(DAYS, end=_recorded_end(loaded), timezone=ZONE, customers=60)
    chats = [s for s in loaded.spans() if s["provider"] == "openai" and s["operation"] == "chat"]
    slow = [s for s in chats if plan.incident.phase(s["start_time"]) == "slow"]
    normal = [s for s in chats if plan.incident.phase(s["start_time"]) is None]

    assert slow and normal
    assert _mean_ms(slow) > 2 * _mean_ms(normal)


def _mean_ms(spans: list[dict[str, object]]) -> float:
    return sum(float(str(s["duration_ms"])) for s in spans) / len(spans)


def test_negative_feedback_escalations_and_redacted_pii_are_there(loaded: Loaded) -> None:
    with Session(loaded.db) as session:
        votes = Counter(f.score for f in session.exec(select(Feedback)).scalars())
        tickets = session.exec(select(Ticket)).scalars().all()
        texts = [m.content for m in session.exec(select(Message)).scalars()]

    assert votes[-1] >= 1 and votes[1] >= 1
    assert tickets and all(t.created_at < loaded.started for t in tickets)
    assert not any("4242 4242 4242 4242" in text or "@example.com" in text for text in texts)


def test_a_second_run_adds_nothing(loaded: Loaded) -> None:
    assert loaded.second.already == loaded.first.total
    assert loaded.second.done == 0


def test_live_turns_meanwhile_stay_on_the_real_clock(loaded: Loaded) -> None:
    live = [s for s in loaded.spans() if s["trace_id"] in loaded.live_trace_ids]

    assert len({s["trace_id"] for s in live}) == 3
    assert all(s["start_time"] >= loaded.started for s in live)
    environments = {
        json.loads(str(s["attributes"])).get("deployment.environment.name") for s in live
    }
    assert environments == {None}


def _recorded_end(loaded: Loaded) -> datetime:
    from seed.history_store import recorded_history

    recorded = recorded_history(loaded.db)
    assert recorded is not None
    return recorded.ends_at.replace(tzinfo=UTC)
