"""Everything a first start needs: schema, demo rows, indexed knowledge base."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from core.db import check_connection, create_db_engine, init_schema
from core.kb import KnowledgeBase, create_knowledge_base
from core.settings import Settings, load_settings
from seed.knowledge_base import seed_knowledge_base
from seed.loader import seed_database


@dataclass(frozen=True)
class SeedSummary:
    database_url: str
    rows_added: int
    documents_added: int


def prepare_database(engine: Engine) -> None:
    """Check that the app database answers and bring its schema up to date."""
    check_connection(engine)
    init_schema(engine)


def seed_demo(
    settings: Settings,
    engine: Engine,
    kb: KnowledgeBase,
    progress: Callable[[str], None] | None = None,
) -> SeedSummary:
    """Load the demo rows and index the seed documents; what exists already is left alone."""
    zone = settings.app.store_timezone
    today = datetime.now(ZoneInfo(zone)).date()
    report = seed_database(engine, today=today, timezone=zone, progress=progress)
    documents = seed_knowledge_base(kb, progress)
    return SeedSummary(settings.database_url, report.total, documents)


def prepare_demo(progress: Callable[[str], None] | None = None) -> SeedSummary:
    """What ``python -m seed`` does, with settings from the environment."""
    settings = load_settings()
    engine = create_db_engine(settings.database_url)
    prepare_database(engine)
    kb = create_knowledge_base(settings, engine)
    try:
        return seed_demo(settings, engine, kb, progress)
    finally:
        kb.close()
        engine.dispose()
