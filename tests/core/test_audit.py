"""The audit log on both backends: what is recorded is listed back, newest first, and the
database itself refuses to change or delete a row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from core.audit import AuditAction, command_line_actor, list_audit, record_audit
from core.db import create_db_engine, init_schema
from core.db.models import APPEND_ONLY_REFUSAL

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


@pytest.fixture
def db(database_url: str) -> Engine:
    engine = create_db_engine(database_url)
    init_schema(engine)
    return engine


def test_events_are_listed_newest_first_with_who_what_and_detail(db: Engine) -> None:
    record_audit(db, "ada@example.com", AuditAction.SIGN_IN, "ada@example.com", "as admin")
    record_audit(db, "ada@example.com", AuditAction.ROLE_CHANGED, "bo@example.com", "a → b")
    record_audit(db, "cy@example.com", AuditAction.FAULT_INJECTED, "openai", "429 for 60 s")

    events = list_audit(db, LONG_AGO)

    assert [(e.actor, e.action, e.target, e.detail) for e in events] == [
        ("cy@example.com", AuditAction.FAULT_INJECTED, "openai", "429 for 60 s"),
        ("ada@example.com", AuditAction.ROLE_CHANGED, "bo@example.com", "a → b"),
        ("ada@example.com", AuditAction.SIGN_IN, "ada@example.com", "as admin"),
    ]
    assert all(e.created_at is not None for e in events)


def test_filters_by_action_person_and_time(db: Engine) -> None:
    record_audit(db, "ada@example.com", AuditAction.SIGN_IN, "ada@example.com", "")
    record_audit(db, "bo@example.com", AuditAction.SIGN_IN, "bo@example.com", "")
    record_audit(db, "ada@example.com", AuditAction.PII_AUDIT_VIEWED, "PII audit", "")

    signed_in = list_audit(db, LONG_AGO, action=AuditAction.SIGN_IN)
    by_ada = list_audit(db, LONG_AGO, actor="ada@example.com")
    tomorrow = list_audit(db, datetime.now(UTC) + timedelta(days=1))

    assert [e.actor for e in signed_in] == ["bo@example.com", "ada@example.com"]
    assert [e.action for e in by_ada] == [AuditAction.PII_AUDIT_VIEWED, AuditAction.SIGN_IN]
    assert tomorrow == []


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_events SET actor = 'someone@else.com'", "DELETE FROM audit_events"],
)
def test_the_database_refuses_to_change_or_delete_an_event(db: Engine, statement: str) -> None:
    record_audit(db, "ada@example.com", AuditAction.API_CLIENT_REVOKED, "oc_1", "")

    with pytest.raises(DBAPIError, match="append-only"), db.begin() as conn:
        conn.execute(text(statement))

    assert [e.actor for e in list_audit(db, LONG_AGO)] == ["ada@example.com"]
    assert "append-only" in APPEND_ONLY_REFUSAL


def test_the_refusal_survives_a_second_schema_set_up(db: Engine) -> None:
    record_audit(db, "ada@example.com", AuditAction.SIGN_IN, "ada@example.com", "")

    init_schema(db)

    with pytest.raises(DBAPIError, match="append-only"), db.begin() as conn:
        conn.execute(text("DELETE FROM audit_events"))


def test_the_command_line_names_the_operating_system_user() -> None:
    assert command_line_actor().startswith("command line (")


@pytest.mark.parametrize("dialect", ["postgresql"])  # SQLite has no TRUNCATE
def test_postgresql_refuses_to_truncate_the_log(db: Engine, dialect: str) -> None:
    record_audit(db, "ada@example.com", AuditAction.SIGN_IN, "ada@example.com", "")

    with pytest.raises(DBAPIError, match="append-only"), db.begin() as conn:
        conn.execute(text("TRUNCATE audit_events"))
