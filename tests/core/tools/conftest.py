"""A seeded shop database, a customer's tool context, and spans of tool runs in memory."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from core.db import create_db_engine, init_schema
from core.db.models import Order, OrderStatus, Role, User
from core.providers.base import ToolCall
from core.tools import Consent, ToolContext, ToolRegistry, ToolResult, create_tool_registry
from core.tools import registry as registry_module
from seed.loader import seed_database

TODAY = date(2026, 11, 23)
"""A Monday: slots start on Tuesday the 24th."""
NOW = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
"""10:00 in the stores (Pacific time)."""
ZONE = "America/Los_Angeles"


@dataclass
class Shop:
    engine: Engine
    registry: ToolRegistry

    def customers(self) -> list[User]:
        with Session(self.engine) as session:
            statement = select(User).where(User.role == Role.CUSTOMER).order_by(col(User.id))
            return list(session.exec(statement))

    def order(self, status: OrderStatus) -> Order:
        with Session(self.engine) as session:
            statement = select(Order).where(Order.status == status).order_by(col(Order.id))
            found = session.exec(statement).first()
        assert found is not None
        return found

    def order_by_number(self, number: str) -> Order:
        with Session(self.engine) as session:
            found = session.exec(select(Order).where(Order.number == number)).one()
        return found

    def context(self, user_id: int | None, conversation_id: str | None = None) -> ToolContext:
        return ToolContext(self.engine, user_id or 0, conversation_id, NOW, ZONE)

    def run(self, user_id: int | None, name: str, **arguments: Any) -> ToolResult:
        """Run a tool as if the customer had confirmed it (consent is tested on its own)."""
        call = ToolCall(id=f"call_{name}", name=name, arguments=arguments)
        consent = Consent(user_id or 0, NOW) if self.registry.needs_consent(name) else None
        return self.registry.execute(call, self.context(user_id), consent=consent)


def seeded(url: str) -> Engine:
    engine = create_db_engine(url)
    init_schema(engine)
    seed_database(engine, today=TODAY, timezone=ZONE)
    return engine


@pytest.fixture(scope="session")
def seeded_sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo shop seeded once into a SQLite file that each test copies."""
    path = tmp_path_factory.mktemp("shop") / "template.db"
    seeded(f"sqlite:///{path}").dispose()
    return path


@pytest.fixture
def shop(seeded_sqlite_file: Path, tmp_path: Path) -> Iterator[Shop]:
    """The demo shop on a fresh SQLite file."""
    path = tmp_path / "shop.db"
    shutil.copyfile(seeded_sqlite_file, path)
    engine = create_db_engine(f"sqlite:///{path}")
    yield Shop(engine, create_tool_registry())
    engine.dispose()


@pytest.fixture
def any_shop(database_url: str) -> Iterator[Shop]:
    """The demo shop on SQLite and on PostgreSQL (for tools that write)."""
    engine = seeded(database_url)
    yield Shop(engine, create_tool_registry())
    engine.dispose()


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    """Tool spans, recorded by a private tracer provider (the global one is left alone)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(registry_module, "tracer", provider.get_tracer("support_observatory.tools"))
    yield exporter
    provider.shutdown()


def only_span(exporter: InMemorySpanExporter) -> ReadableSpan:
    finished = exporter.get_finished_spans()
    assert len(finished) == 1
    return finished[0]
