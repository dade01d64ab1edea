"""The audit log: who signed in, who changed whom, which API clients, prices, experiments and
faults were changed, and who looked at the PII audit.

Append-only: this module adds and reads, and the database itself refuses to update or delete
a row (triggers on ``audit_events``, see ``core.db.models``). Whoever acts passes their own
name (``actor``, an e-mail), so the log says who did it whichever page or command did it.
"""

from __future__ import annotations

import getpass
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from core.db.models import AuditAction, AuditEvent
from core.errors import StorageError

__all__ = ["AuditAction", "AuditEvent", "command_line_actor", "list_audit", "record_audit"]

MOST_EVENTS = 5_000
"""The most events one ``list_audit`` returns (the newest)."""


def record_audit(db: Engine, actor: str, action: AuditAction, target: str, detail: str) -> None:
    """Add one event: ``actor`` (an e-mail) did ``action`` to ``target``; ``detail`` in words.

    Raises ``StorageError`` when the database refuses it: an action that must be audited
    should not pass silently unaudited.
    """
    event = AuditEvent(actor=actor, action=action, target=target, detail=detail)
    try:
        with Session(db) as session:
            session.add(event)
            session.commit()
    except SQLAlchemyError as exc:
        raise StorageError(f"The audit log could not record {action.value}: {exc}") from exc


def list_audit(
    db: Engine,
    since: datetime,
    action: AuditAction | None = None,
    actor: str | None = None,
) -> list[AuditEvent]:
    """Events since ``since``, newest first, optionally of one action or by one actor."""
    statement = select(AuditEvent).where(col(AuditEvent.created_at) >= since)
    if action is not None:
        statement = statement.where(AuditEvent.action == action)
    if actor is not None:
        statement = statement.where(AuditEvent.actor == actor)
    statement = statement.order_by(col(AuditEvent.created_at).desc(), col(AuditEvent.id).desc())
    with Session(db, expire_on_commit=False) as session:
        return list(session.exec(statement.limit(MOST_EVENTS)))


def command_line_actor() -> str:
    """Who acts from a shell command: there is no sign-in there, so the operating-system user."""
    try:
        user = getpass.getuser()
    except OSError:
        user = "unknown user"
    return f"command line ({user})"
