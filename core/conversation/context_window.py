"""Keep a conversation inside the model's context budget by summarising its oldest turns.

The budget is a share of the model's context window (``engine.context_budget_share``) minus the
room its answer needs. When the history does not fit, everything but the most recent turns is
replaced by a summary made with a traced LLM call; the summary is stored as a ``system`` message
so later turns start from it instead of summarising again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from core.db.models import Message, MessageRole
from core.providers.base import ChatMessage
from core.tokens import count_message_tokens

KEEP_RECENT_MESSAGES = 6
"""The newest messages (about three exchanges) are always sent as they are."""

Summarise = Callable[[Sequence[ChatMessage]], str]


@dataclass(frozen=True)
class History:
    """The part of a stored conversation a model should see."""

    summary: str | None
    messages: list[ChatMessage]
    message_ids: list[int]
    """The stored id of each message, to record which ones a new summary replaces."""


@dataclass(frozen=True)
class FittedHistory:
    summary: str | None
    messages: list[ChatMessage]
    tokens_before: int
    tokens_after: int
    summarised_messages: int
    """How many messages the summary made this turn replaced (0 when nothing was summarised)."""

    @property
    def tokens_saved(self) -> int:
        return self.tokens_before - self.tokens_after


def history_from_rows(rows: Sequence[Message]) -> History:
    """Chat messages after the latest stored summary, with that summary.

    Agent replies are shown to the model as assistant messages, so it knows what a human said.
    """
    summary: str | None = None
    through: int | None = None
    for row in rows:
        if row.role is MessageRole.SYSTEM and row.summary_through_id is not None:
            summary, through = row.content, row.summary_through_id
    messages: list[ChatMessage] = []
    ids: list[int] = []
    for row in rows:
        if row.role is MessageRole.SYSTEM or row.id is None:
            continue
        if through is not None and row.id <= through:
            continue
        if row.error and row.role is MessageRole.ASSISTANT:
            continue
        if row.role is MessageRole.USER:
            messages.append(ChatMessage(role="user", content=row.content))
        else:
            messages.append(ChatMessage(role="assistant", content=row.content))
        ids.append(row.id)
    return History(summary, messages, ids)


def budget_tokens(context_window: int, max_output_tokens: int, share: float) -> int:
    """Tokens the prompt may use: a share of the window, less the room the answer needs."""
    return max(512, int(context_window * share) - max_output_tokens)


def fit_history(
    system_prompt: str,
    history: History,
    *,
    model: str,
    budget: int,
    summarise: Summarise,
) -> FittedHistory:
    """Return messages that fit ``budget`` tokens, summarising the oldest ones if needed."""
    before = _tokens(system_prompt, history.summary, history.messages, model)
    if before <= budget or len(history.messages) <= KEEP_RECENT_MESSAGES:
        return FittedHistory(history.summary, history.messages, before, before, 0)
    older = history.messages[:-KEEP_RECENT_MESSAGES]
    recent = history.messages[-KEEP_RECENT_MESSAGES:]
    to_summarise = list(older)
    if history.summary:
        to_summarise.insert(0, ChatMessage(role="assistant", content=history.summary))
    summary = summarise(to_summarise)
    after = _tokens(system_prompt, summary, recent, model)
    return FittedHistory(summary, recent, before, after, len(older))


def _tokens(system: str, summary: str | None, messages: Sequence[ChatMessage], model: str) -> int:
    everything = [{"role": "system", "content": system + (summary or "")}]
    everything += [{"role": m.role, "content": m.content} for m in messages]
    return count_message_tokens(everything, model)
