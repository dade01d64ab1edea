"""What a turn takes and gives back: the request, the events a streamed turn yields, the result."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from core.actors import Actor


class TurnStatus(StrEnum):
    ANSWERED = "answered"
    """The assistant answered (from a model or from the cache)."""
    RATE_LIMITED = "rate_limited"
    """The customer sent too much too fast; the message was kept, not answered."""
    FAILED = "failed"
    """The turn could not be answered (every provider failed, or a step broke) or its stream was
    closed first; the customer's message is kept and the reason stored with the reply."""
    HANDED_TO_AGENT = "handed_to_agent"
    """A human agent owns the conversation; the message waits for them."""


@dataclass(frozen=True)
class TurnRequest:
    """One customer message. ``conversation_id=None`` starts a new conversation."""

    user_id: int
    text: str
    conversation_id: str | None = None
    route: Sequence[str] | None = None
    """Models to try in order; ``None`` uses the experiment's variant or the default route."""
    experiment: str | None = None
    scenario: str | None = None
    actor: Actor | None = None
    """Who sends it: ``None`` is the customer ``user_id`` themselves; the app's own drivers
    (scenarios) pass ``SYSTEM``. Checked by ``ConversationEngine.authorize``."""
    request_key: str | None = None
    """Names this message across tries: sent again after the app database went away, it is
    stored once (``TurnQueue`` sets one on every message it takes)."""

    @property
    def acting(self) -> Actor:
        return self.actor if self.actor is not None else Actor.customer(self.user_id)


@dataclass(frozen=True)
class Citation:
    """A passage an answer cites as ``[number]``."""

    number: int
    document_id: int
    title: str
    page: int | None
    snippet: str


@dataclass(frozen=True)
class ToolStep:
    """One tool the assistant ran during the turn."""

    call_id: str
    name: str
    arguments: dict[str, Any]
    ok: bool
    result: str


@dataclass(frozen=True)
class PendingAction:
    """A change the model asked for that waits for the customer's yes (see ``consent``)."""

    id: int
    conversation_id: str
    tool: str
    question: str
    """One line, e.g. "Cancel ORD-10059 — $1,105.00, refunded to your original payment
    method?"."""
    confirm_label: str
    decline_label: str
    choices: tuple[str, ...] = ()
    """Times to pick from (the first is the one asked for when it is free); empty for a
    plain yes or no."""
    status: str = "pending"


@dataclass(frozen=True)
class TextDelta:
    """A piece of the answer as it streams."""

    text: str


@dataclass(frozen=True)
class ToolStarted:
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class ToolFinished:
    step: ToolStep


@dataclass(frozen=True)
class Notice:
    """Something the customer should know that is not the answer (e.g. data was removed)."""

    text: str


@dataclass(frozen=True)
class Quality:
    score: float
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class TurnResult:
    """Everything a page shows under an answer, and what was stored."""

    conversation_id: str
    status: TurnStatus
    text: str
    user_message_id: int
    message_id: int | None = None
    model: str | None = None
    provider: str | None = None
    simulated: bool | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: Decimal | None = None
    latency_ms: float = 0.0
    time_to_first_token_ms: float | None = None
    trace_id: str | None = None
    citations: tuple[Citation, ...] = ()
    tool_steps: tuple[ToolStep, ...] = ()
    notices: tuple[str, ...] = ()
    quality: Quality | None = None
    cached: bool = False
    variant: str | None = None
    attempts: int = 0
    fallbacks: tuple[str, ...] = field(default_factory=tuple)
    error: str | None = None
    pending_action: PendingAction | None = None
    """A change waiting for the customer's confirmation, asked for in this turn."""


TurnEvent = TextDelta | ToolStarted | ToolFinished | Notice | TurnResult
"""What ``ConversationEngine.stream`` yields; the last event is always the ``TurnResult``."""
