"""The app's tables, identical on SQLite and PostgreSQL.

Times are timezone-aware and read back in UTC on both backends. Money is ``Decimal`` in ``NUMERIC``
columns.
Message content is stored as it was *after* PII redaction.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import DDL, JSON, Column, LargeBinary, Numeric, UniqueConstraint, event, true
from sqlmodel import Field, SQLModel

from core import clock

MONEY = Numeric(18, 10)


def utcnow() -> datetime:
    """The current time, aware, in UTC (simulated inside a ``simulated_clock`` block)."""
    return clock.utcnow()


def _json_list() -> Any:
    return Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class Role(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    ADMIN = "admin"


class User(SQLModel, table=True):
    """A person: a customer (their id is their customer id everywhere: conversations, orders,
    bookings) or staff. Signing in maps an e-mail to one row (``core.users``)."""

    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    name: str
    email: str = Field(unique=True, index=True)
    role: Role = Field(default=Role.CUSTOMER, index=True)
    phone: str | None = None
    city: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    active: bool = Field(default=True, sa_column_kwargs={"server_default": true()})
    """False once an admin deactivates them: signing in is refused."""
    last_sign_in_at: datetime | None = None


class ConversationStatus(StrEnum):
    ACTIVE = "active"
    ESCALATED = "escalated"
    CLAIMED = "claimed"
    RESOLVED = "resolved"


class Conversation(SQLModel, table=True):
    __tablename__ = "conversations"

    id: str = Field(primary_key=True, max_length=36)
    user_id: int = Field(foreign_key="users.id", index=True)
    title: str = ""
    status: ConversationStatus = Field(default=ConversationStatus.ACTIVE, index=True)
    assigned_agent_id: int | None = Field(default=None, foreign_key="users.id")
    route: str | None = None
    experiment: str | None = None
    variant: str | None = None
    flagged: bool = Field(default=False, index=True)
    flag_reasons: list[str] = _json_list()
    quality_score: float | None = None
    total_cost_usd: Decimal = Field(default=Decimal(0), sa_type=MONEY)
    pii_redactions: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow, index=True)


class MessageRole(StrEnum):
    USER = "user"
    ASSISTANT = "assistant"
    AGENT = "agent"
    SYSTEM = "system"


class Message(SQLModel, table=True):
    __tablename__ = "messages"

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: str = Field(foreign_key="conversations.id", index=True, max_length=36)
    role: MessageRole
    content: str
    author_id: int | None = Field(default=None, foreign_key="users.id")
    model: str | None = None
    provider: str | None = None
    simulated: bool | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost_usd: Decimal | None = Field(default=None, sa_type=MONEY)
    latency_ms: float | None = None
    trace_id: str | None = Field(default=None, index=True, max_length=32)
    citations: list[dict[str, Any]] = _json_list()
    tool_calls: list[dict[str, Any]] = _json_list()
    quality_score: float | None = None
    quality_reasons: list[str] | None = Field(default=None, sa_column=Column(JSON))
    """Why the answer got its quality score, in words an agent reads (None when not scored)."""
    error: str | None = None
    summary_through_id: int | None = None
    """On a summary message (role ``system``): the last message id the summary replaces."""
    request_key: str | None = Field(default=None, max_length=64)
    """On a customer's message: the key of the request that sent it, so a message tried again
    after the database went away is stored once (``core.db.held``)."""
    created_at: datetime = Field(default_factory=utcnow, index=True)


class Feedback(SQLModel, table=True):
    __tablename__ = "feedback"

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="messages.id", index=True)
    conversation_id: str = Field(foreign_key="conversations.id", index=True, max_length=36)
    user_id: int | None = Field(default=None, foreign_key="users.id")
    score: int
    """+1 for thumbs up, -1 for thumbs down."""
    comment: str | None = None
    created_at: datetime = Field(default_factory=utcnow)


class TicketStatus(StrEnum):
    OPEN = "open"
    PENDING = "pending"
    RESOLVED = "resolved"


class TicketPriority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Ticket(SQLModel, table=True):
    """An escalation to a human: made by the ``create_ticket`` tool or an agent."""

    __tablename__ = "tickets"

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: str | None = Field(default=None, foreign_key="conversations.id", index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    subject: str
    description: str = ""
    status: TicketStatus = Field(default=TicketStatus.OPEN, index=True)
    priority: TicketPriority = TicketPriority.NORMAL
    handoff_summary: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    """What the agent needs, summarised from the conversation when it was escalated:
    ``{"intent", "order_number" (if any), "summary", "urgency"}``; None if it could not be made."""
    created_at: datetime = Field(default_factory=utcnow)
    resolved_at: datetime | None = None


class ActionStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    EXPIRED = "expired"


class ConsentRequest(SQLModel, table=True):
    """A side-effect tool call the model asked for, waiting for the customer's yes or no.

    It expires when the customer sends another message; ``decided_by``/``decided_at`` say who
    answered and when."""

    __tablename__ = "consent_requests"

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: str = Field(foreign_key="conversations.id", index=True, max_length=36)
    user_id: int = Field(foreign_key="users.id", index=True)
    tool_name: str
    call_id: str
    arguments: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    question: str
    confirm_label: str
    decline_label: str
    choices: list[dict[str, Any]] = _json_list()
    """``[{"label": "Tue 8 Dec, 10:00 AM · Seattle store", "arguments": {...}}, …]``"""
    route: list[str] = _json_list()
    status: ActionStatus = Field(default=ActionStatus.PENDING, index=True)
    trace_id: str | None = Field(default=None, max_length=32)
    """The turn that asked."""
    decided_by: int | None = None
    decided_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class OrderStatus(StrEnum):
    PROCESSING = "processing"
    PACKED = "packed"
    SHIPPED = "shipped"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    DELAYED = "delayed"
    CANCELLED = "cancelled"
    RETURNED = "returned"


class Order(SQLModel, table=True):
    __tablename__ = "orders"

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(unique=True, index=True, max_length=20)
    user_id: int = Field(foreign_key="users.id", index=True)
    status: OrderStatus = Field(index=True)
    carrier: str | None = None
    tracking_number: str | None = None
    eta: date | None = None
    items: list[dict[str, Any]] = _json_list()
    amount: Decimal = Field(sa_type=Numeric(12, 2))
    currency: str = "USD"
    shipping_city: str | None = None
    placed_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class AppointmentSlot(SQLModel, table=True):
    __tablename__ = "appointment_slots"
    __table_args__ = (UniqueConstraint("service", "location", "starts_at"),)

    id: int | None = Field(default=None, primary_key=True)
    service: str = Field(index=True)
    location: str
    starts_at: datetime = Field(index=True)
    duration_min: int
    capacity: int = 1


class BookingStatus(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    NO_SHOW = "no_show"


class Booking(SQLModel, table=True):
    __tablename__ = "bookings"

    id: int | None = Field(default=None, primary_key=True)
    slot_id: int = Field(foreign_key="appointment_slots.id", index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    status: BookingStatus = Field(default=BookingStatus.BOOKED, index=True)
    notes: str | None = None
    created_at: datetime = Field(default_factory=utcnow)


class DocumentStatus(StrEnum):
    PENDING = "pending"
    INDEXED = "indexed"
    FAILED = "failed"


class KbDocument(SQLModel, table=True):
    """A file in the knowledge base. ``scope`` is ``global`` or a conversation id."""

    __tablename__ = "kb_documents"
    __table_args__ = (UniqueConstraint("scope", "content_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    title: str
    filename: str
    mime_type: str
    content_hash: str = Field(index=True, max_length=64)
    size_bytes: int
    page_count: int = 0
    chunk_count: int = 0
    status: DocumentStatus = Field(default=DocumentStatus.PENDING, index=True)
    error: str | None = None
    source: str = "upload"
    """``seed``, ``upload`` or ``conversation``."""
    scope: str = Field(default="global", index=True, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    indexed_at: datetime | None = None


class KbDocumentFile(SQLModel, table=True):
    """The original bytes of a knowledge-base document, kept apart so listings stay light."""

    __tablename__ = "kb_document_files"

    document_id: int = Field(foreign_key="kb_documents.id", primary_key=True)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class PiiAuditEvent(SQLModel, table=True):
    """One redaction: what kind of data was removed, where and when — never the value."""

    __tablename__ = "pii_audit_events"

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: str | None = Field(default=None, index=True, max_length=36)
    pii_type: str = Field(index=True)
    """``CARD``, ``SSN``, ``EMAIL``, ``PHONE``, ``IBAN``, ``IP``, ``API_KEY``, ``PASSWORD``."""
    location: str
    """Where it was found: ``user_message``, ``document``, ``tool_result``, ``agent_message``…"""
    count: int = 1
    created_at: datetime = Field(default_factory=utcnow, index=True)


class Experiment(SQLModel, table=True):
    """An A/B experiment: named variants (a model, a route or a prompt) with traffic weights."""

    __tablename__ = "experiments"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    description: str = ""
    variants: list[dict[str, Any]] = _json_list()
    """``[{"name": "control", "weight": 50, "route": ["gpt-4o-mini"], "prompt": null}, …]``"""
    active: bool = Field(default=True, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    metric: str = "cost_per_conversation"
    """The metric that decides it (``observability.insights.Metric``)."""
    min_sample: int = 100
    """Conversations per variant before a verdict is given."""
    started_at: datetime | None = None
    ended_at: datetime | None = None


class ExperimentAssignment(SQLModel, table=True):
    """The variant a user got in an experiment; kept so the user stays in it."""

    __tablename__ = "experiment_assignments"
    __table_args__ = (UniqueConstraint("experiment_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    experiment_id: int = Field(foreign_key="experiments.id", index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    variant: str
    created_at: datetime = Field(default_factory=utcnow)


class RateLimitHit(SQLModel, table=True):
    """A message refused because its user was over the rate limit."""

    __tablename__ = "rate_limit_hits"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    retry_after_s: float
    created_at: datetime = Field(default_factory=utcnow, index=True)


class AuditAction(StrEnum):
    """What an audit event records (``core.audit``)."""

    SIGN_IN = "sign_in"
    SIGN_IN_REFUSED = "sign_in_refused"
    USER_INVITED = "user_invited"
    ROLE_CHANGED = "role_changed"
    USER_DEACTIVATED = "user_deactivated"
    USER_REACTIVATED = "user_reactivated"
    API_CLIENT_CREATED = "api_client_created"
    API_CLIENT_REVOKED = "api_client_revoked"
    PRICE_OVERRIDE_SAVED = "price_override_saved"
    BUDGET_SAVED = "budget_saved"
    EXPERIMENT_CREATED = "experiment_created"
    EXPERIMENT_STARTED = "experiment_started"
    EXPERIMENT_ENDED = "experiment_ended"
    FAULT_INJECTED = "fault_injected"
    FAULT_CLEARED = "fault_cleared"
    PII_AUDIT_VIEWED = "pii_audit_viewed"


class AuditEvent(SQLModel, table=True):
    """Who did what to what, and when. Rows are only ever added: the database refuses to
    update or delete them (triggers below)."""

    __tablename__ = "audit_events"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(index=True)
    """The e-mail of who acted, or ``command line (<os user>)``."""
    action: AuditAction = Field(index=True)
    target: str = ""
    """What was acted on: an e-mail, a client id, a model, an experiment name…"""
    detail: str = ""


APPEND_ONLY_REFUSAL = "audit_events is append-only: its rows cannot be changed or deleted"

_SQLITE_APPEND_ONLY = [
    DDL(
        f"CREATE TRIGGER IF NOT EXISTS audit_events_no_{verb.lower()} BEFORE {verb} "
        f"ON audit_events BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_REFUSAL}'); END"
    ).execute_if(dialect="sqlite")
    for verb in ("UPDATE", "DELETE")
]
_POSTGRES_APPEND_ONLY = [
    DDL(
        "CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger "
        f"LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{APPEND_ONLY_REFUSAL}'; END $$"
    ).execute_if(dialect="postgresql"),
    DDL(
        "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events "
        "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
    ).execute_if(dialect="postgresql"),
    DDL(
        "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()"
    ).execute_if(dialect="postgresql"),
]
for _ddl in (*_SQLITE_APPEND_ONLY, *_POSTGRES_APPEND_ONLY):
    event.listen(AuditEvent.__table__, "after_create", _ddl)  # type: ignore[attr-defined]
