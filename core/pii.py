"""PII redaction for the conversation engine: redact, audit, and tell the customer politely.

``redact_message`` runs the detector of ``observability.redaction`` over a message before it
reaches a provider, a span or a row, and writes one ``PiiAuditEvent`` per kind found (kind,
where, when, which conversation, how many — never the value). The company's own published
support e-mail and phone are not customer data and pass through (``PUBLISHED_CONTACTS``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Sequence
from datetime import datetime

from opentelemetry import trace
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from core.db.models import PiiAuditEvent, utcnow
from core.errors import StorageError
from observability.redaction import Finding, PiiKind, Redaction, redact_text

tracer = trace.get_tracer("support_observatory.pii")

PUBLISHED_CONTACTS: tuple[str, ...] = (
    "support@northwindoutfitters.com",
    "safety@northwindoutfitters.com",
    "privacy@northwindoutfitters.com",
    "no-reply@northwindoutfitters.com",
    "+1 800 555 0142",
)
"""Northwind's own support contacts as the help-centre articles publish them."""

_NAMES: dict[PiiKind, tuple[str, str]] = {
    PiiKind.CARD: ("a card number", "card numbers"),
    PiiKind.SSN: ("a Social Security number", "Social Security numbers"),
    PiiKind.EMAIL: ("an email address", "email addresses"),
    PiiKind.PHONE: ("a phone number", "phone numbers"),
    PiiKind.IBAN: ("a bank account number (IBAN)", "bank account numbers (IBANs)"),
    PiiKind.IP: ("an IP address", "IP addresses"),
    PiiKind.API_KEY: ("an API key", "API keys"),
    PiiKind.PASSWORD: ("a password", "passwords"),
}


def redact_message(
    engine: Engine,
    text: str,
    *,
    conversation_id: str | None,
    where: str,
    allow: Collection[str] = PUBLISHED_CONTACTS,
    now: Callable[[], datetime] = utcnow,
) -> Redaction:
    """Redact ``text`` and audit every kind removed; returns the redacted text and findings.

    ``where`` says where the text came from (``user_message``, ``agent_message``, ``document``,
    ``tool_result``…). Raises ``StorageError`` if the audit rows cannot be written, so a message
    is never stored or sent with its redaction unaudited.
    """
    with tracer.start_as_current_span("redact_pii") as span:
        redaction = redact_text(text, allow=allow)
        counts = Counter(finding.kind for finding in redaction.findings)
        span.set_attribute("observatory.pii.redactions", len(redaction.findings))
        span.set_attribute("observatory.pii.kinds", sorted(counts))
        if counts:
            _audit(engine, counts, conversation_id=conversation_id, where=where, at=now())
    return redaction


def list_pii_audit(engine: Engine, since: datetime, *, limit: int = 500) -> list[PiiAuditEvent]:
    """Audit events since ``since``, newest first: kind, where, when, conversation, count."""
    statement = (
        select(PiiAuditEvent)
        .where(col(PiiAuditEvent.created_at) >= since)
        .order_by(col(PiiAuditEvent.created_at).desc())
        .limit(limit)
    )
    with Session(engine) as session:
        return list(session.exec(statement))


def _audit(
    engine: Engine,
    counts: Counter[PiiKind],
    *,
    conversation_id: str | None,
    where: str,
    at: datetime,
) -> None:
    events = [
        PiiAuditEvent(
            conversation_id=conversation_id,
            pii_type=kind.value,
            location=where,
            count=count,
            created_at=at,
        )
        for kind, count in sorted(counts.items())
    ]
    try:
        with Session(engine) as session:
            session.add_all(events)
            session.commit()
    except SQLAlchemyError as exc:
        raise StorageError(
            "Could not record the privacy audit for this message, so it was not sent; "
            "check the database connection and try again."
        ) from exc


def privacy_notice(findings: Sequence[Finding]) -> str:
    """A polite sentence telling the customer what was removed, in the order it appeared.

    >>> privacy_notice([Finding(PiiKind.CARD, 0, 19)])  # doctest: +ELLIPSIS
    'For your security, I removed a card number from your message before it was stored...'

    Returns ``""`` when nothing was removed.
    """
    counts = Counter(finding.kind for finding in findings)
    if not counts:
        return ""
    names = [_NAMES[kind][0 if n == 1 else 1] for kind, n in counts.items()]
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    return (
        f"For your security, I removed {listed} from your message before it was stored or "
        "shared with anyone. Please don't send sensitive details in chat — we never need them "
        "to help you."
    )
