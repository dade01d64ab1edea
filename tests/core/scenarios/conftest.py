"""A seeded app (SQLite, local Qdrant, simulator at speed 0, the app's router settings) shared
by the scenario tests, with the app's bounded request log as its recorder."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from core.db import create_db_engine, init_schema
from core.scenarios import ScenarioEvent, ScenarioKey, ScenarioRun, Step, run_scenario
from core.scenarios.proof import RecentRequests
from core.services import Services, create_services
from core.settings import RouterSettings
from seed.knowledge_base import seed_knowledge_base
from seed.loader import seed_database
from tests.core.conversation.conftest import build_settings


@pytest.fixture(scope="session")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    """The whole app on embedded defaults, seeded once for every scenario test."""
    plain = build_settings(tmp_path_factory.mktemp("scenarios"), rate_limit_burst=1000)
    # The app's own retries and backoff (the fallback scenario retries after a 429).
    settings = plain.model_copy(update={"router": RouterSettings()})
    db = create_db_engine(settings.database_url)
    init_schema(db)
    seed_database(db, today=datetime.now(UTC).date(), timezone=settings.app.store_timezone)
    built = create_services(settings, db, recorder=RecentRequests())
    seed_knowledge_base(built.kb)
    try:
        yield built
    finally:
        built.close()
        db.dispose()


def run_to_end(services: Services, key: ScenarioKey) -> tuple[list[str], ScenarioRun]:
    """Every step's text and the finished run."""
    steps: list[str] = []
    events: list[ScenarioEvent] = list(run_scenario(services, key))
    for event in events[:-1]:
        assert isinstance(event, Step)
        steps.append(event.text)
    assert isinstance(events[-1], ScenarioRun)
    return steps, events[-1]
