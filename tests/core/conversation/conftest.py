"""A seeded app (SQLite, local Qdrant, simulator at speed 0) shared by the engine tests.

Spans go to an in-memory exporter as well as the trace store, so tests can read what was traced.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlmodel import Session, select

from core.conversation import ConversationEngine
from core.db import create_db_engine, init_schema
from core.db.models import Order, OrderStatus, Role, User
from core.ratelimit import RateLimiter
from core.services import Services, create_services
from core.settings import AppSettings, EngineSettings, ProviderSettings, RouterSettings, Settings
from core.simulator import RequestRecorder
from seed.knowledge_base import seed_knowledge_base
from seed.loader import seed_database
from tests.spans import FlushedSpans


@dataclass
class App:
    services: Services
    spans: InMemorySpanExporter
    recorder: RequestRecorder

    def finished_spans(self, trace_id: str | None = None) -> list[ReadableSpan]:
        spans = list(self.spans.get_finished_spans())
        if trace_id is None:
            return spans
        return [s for s in spans if format(s.context.trace_id, "032x") == trace_id]

    def customer(self, index: int = 0) -> User:
        with Session(self.services.db) as session:
            users = session.exec(select(User).where(User.role == Role.CUSTOMER).order_by(User.id))
            return list(users)[index]

    def order_of(self, user_id: int, status: OrderStatus | None = None) -> Order:
        with Session(self.services.db) as session:
            statement = select(Order).where(Order.user_id == user_id)
            if status is not None:
                statement = statement.where(Order.status == status)
            order = session.exec(statement.order_by(Order.id)).first()
        assert order is not None
        return order


def build_settings(data_dir: Path, **engine: object) -> Settings:
    """Simulator at speed 0; the router falls back at once and never opens a breaker, so an
    outage armed by one test does not leak into the next (breakers have their own tests)."""
    return Settings(
        app=AppSettings(data_dir=data_dir, seed_on_start=False),
        providers=ProviderSettings(simulator_speed=0.0),
        router=RouterSettings(
            backoff_base_s=0.0, backoff_max_s=0.0, breaker_failure_threshold=1_000_000
        ),
        engine=EngineSettings(**engine),  # type: ignore[arg-type]
    )


def engine_with(
    app: App, *, limiter: RateLimiter | None = None, **engine: Any
) -> ConversationEngine:
    """An engine over the shared app's parts with other engine settings (or rate limiter)."""
    parts = app.services.engine.parts
    settings = parts.settings.model_copy(
        update={"engine": parts.settings.engine.model_copy(update=engine)}
    )
    return ConversationEngine(replace(parts, settings=settings, limiter=limiter or parts.limiter))


def children_of_turn(spans: list[ReadableSpan]) -> list[ReadableSpan]:
    """The spans of one trace that descend from its ``turn`` span."""
    by_id = {span.context.span_id: span for span in spans}
    turn = next(span for span in spans if span.name == "turn")

    def under_turn(span: ReadableSpan) -> bool:
        parent = span.parent
        while parent is not None:
            if parent.span_id == turn.context.span_id:
                return True
            above = by_id.get(parent.span_id)
            parent = above.parent if above is not None else None
        return False

    return [span for span in spans if under_turn(span)]


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """The whole app on embedded defaults, seeded once for every engine test."""
    settings = build_settings(tmp_path_factory.mktemp("engine"), rate_limit_burst=1000)
    db = create_db_engine(settings.database_url)
    init_schema(db)
    seed_database(db, today=datetime.now(UTC).date(), timezone=settings.app.store_timezone)
    recorder = RequestRecorder()
    services = create_services(settings, db, recorder=recorder)
    seed_knowledge_base(services.kb)
    exporter = FlushedSpans(services.observatory.tracer_provider)
    try:
        yield App(services, exporter, recorder)
    finally:
        services.close()
        db.dispose()


@pytest.fixture
def fresh(app: App) -> Iterator[App]:
    """The shared app with no injected faults, and no spans or provider requests recorded."""
    app.services.faults.clear()
    app.spans.clear()
    app.recorder.clear()
    yield app
    app.services.faults.clear()
