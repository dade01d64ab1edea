"""Engine-facing redaction: audit rows without values, spans, and the customer's notice."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import Engine, create_engine
from sqlmodel import Session, select

from core import pii
from core.db import create_db_engine, init_schema
from core.db.models import PiiAuditEvent
from core.errors import StorageError
from core.pii import PUBLISHED_CONTACTS, privacy_notice, redact_message
from observability.redaction import Finding, PiiKind

NOON = datetime(2026, 5, 14, 12, 0, tzinfo=UTC)


@pytest.fixture
def db(database_url: str) -> Engine:
    engine = create_db_engine(database_url)
    init_schema(engine)
    return engine


def _events(engine: Engine) -> list[PiiAuditEvent]:
    with Session(engine) as session:
        return list(session.exec(select(PiiAuditEvent).order_by(PiiAuditEvent.pii_type)))


def test_each_kind_found_is_audited_once_with_its_count_and_never_its_value(db: Engine) -> None:
    text = "Cards 4111 1111 1111 1111 and 5555-5555-5555-4444, mail jo@example.com"

    redaction = redact_message(
        db, text, conversation_id="c-1", where="user_message", now=lambda: NOON
    )

    assert redaction.text == "Cards [CARD] and [CARD], mail [EMAIL]"
    events = _events(db)
    assert [(e.pii_type, e.count, e.location, e.conversation_id) for e in events] == [
        ("CARD", 2, "user_message", "c-1"),
        ("EMAIL", 1, "user_message", "c-1"),
    ]
    assert all(e.created_at == NOON for e in events)
    stored = " ".join(str(e.model_dump()) for e in events)
    assert "4111" not in stored and "jo@example.com" not in stored


def test_clean_message_writes_no_audit_rows(db: Engine) -> None:
    redaction = redact_message(
        db, "Where is ORD-10042?", conversation_id="c-2", where="user_message"
    )

    assert redaction.findings == ()
    assert _events(db) == []


def test_published_support_contacts_are_not_redacted_or_audited(db: Engine) -> None:
    text = f"I already emailed {PUBLISHED_CONTACTS[0]} and called {PUBLISHED_CONTACTS[-1]}."

    redaction = redact_message(db, text, conversation_id=None, where="agent_message")

    assert redaction.text == text
    assert _events(db) == []


def test_redaction_span_counts_kinds_without_values(
    db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(pii, "tracer", provider.get_tracer("test"))

    redact_message(db, "ssn 078-05-1120, pw: hunter2", conversation_id="c", where="user_message")

    (span,) = exporter.get_finished_spans()
    assert dict(span.attributes or {}) == {
        "observatory.pii.redactions": 2,
        "observatory.pii.kinds": ("PASSWORD", "SSN"),
    }


def test_unwritable_audit_is_a_storage_error_sentence(tmp_path: object) -> None:
    engine = create_engine("sqlite://")

    with pytest.raises(StorageError, match="privacy audit"):
        redact_message(engine, "mail jo@example.com", conversation_id="c", where="user_message")


def test_notice_names_what_was_removed_politely() -> None:
    findings = [
        Finding(PiiKind.CARD, 0, 1),
        Finding(PiiKind.CARD, 2, 3),
        Finding(PiiKind.EMAIL, 4, 5),
        Finding(PiiKind.PASSWORD, 6, 7),
    ]

    notice = privacy_notice(findings)

    assert notice.startswith(
        "For your security, I removed card numbers, an email address and a password from your "
        "message"
    )
    assert privacy_notice([]) == ""
