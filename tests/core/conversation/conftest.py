"""A seeded app (SQLite, local Qdrant, simulator at speed 0) shared by the engine tests.

Spans go to an in-memory exporter as well as the trace store, so tests can read what was traced.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlmodel import Session, select

from core.db import create_db_engine, init_schema
from core.db.models import Order, OrderStatus, Role, User
from core.services import Services, create_services
from core.settings import AppSettings, EngineSettings, ProviderSettings, Settings
from core.simulator import RequestRecorder
from seed.knowledge_base import seed_knowledge_base
from seed.loader import seed_database


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
    return Settings(
        app=AppSettings(data_dir=data_dir, seed_on_start=False),
        providers=ProviderSettings(simulator_speed=0.0),
        engine=EngineSettings(**engine),  # type: ignore[arg-type]
    )


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
    exporter = InMemorySpanExporter()
    services.observatory.tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    try:
        yield App(services, exporter, recorder)
    finally:
        services.close()
        db.dispose()


@pytest.fixture
def fresh(app: App) -> Iterator[App]:
    """The shared app with no injected faults and the span list emptied."""
    app.services.faults.clear()
    app.spans.clear()
    yield app
    app.services.faults.clear()
