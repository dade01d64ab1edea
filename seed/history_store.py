"""Which demo history this database holds, so a second run continues it instead of adding one.

One row per database: the history's length in days and the hour it ends at. A later run plans
the same conversations (same ids) from it and makes only those that are missing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Field, Session, SQLModel, select

from core.db.models import utcnow


class DemoHistory(SQLModel, table=True):
    """The demo history loaded into this database (see ``seed.history``)."""

    __tablename__ = "demo_history"

    id: int | None = Field(default=None, primary_key=True)
    days: int
    ends_at: datetime
    created_at: datetime = Field(default_factory=utcnow)


def recorded_history(engine: Engine) -> DemoHistory | None:
    """The history this database holds or is loading, if any."""
    DemoHistory.__table__.create(engine, checkfirst=True)  # type: ignore[attr-defined]
    with Session(engine) as session:
        return session.exec(select(DemoHistory).limit(1)).first()


def record_history(engine: Engine, days: int, ends_at: datetime) -> DemoHistory:
    """Note that a history of ``days`` days ending at ``ends_at`` is being loaded."""
    row = DemoHistory(days=days, ends_at=ends_at)
    with Session(engine) as session:
        session.add(row)
        session.commit()
        session.refresh(row)
    return row
