"""What a traced turn was about, in the customer's own (redacted) words, for trace lists."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import col, select

from core.conversation.history import session
from core.db.models import Message, MessageRole

TITLE_CHARS = 60


def customer_words(
    engine: Engine, trace_ids: list[str], *, chars: int = TITLE_CHARS
) -> dict[str, str]:
    """For each trace id, the start of the customer's message that began that turn (as stored,
    after PII redaction), cut at a word; traces without a customer message are left out."""
    if not trace_ids:
        return {}
    statement = (
        select(Message.trace_id, Message.content)
        .where(col(Message.trace_id).in_(trace_ids), col(Message.role) == MessageRole.USER)
        .order_by(col(Message.id))
    )
    words: dict[str, str] = {}
    with session(engine) as db:
        for trace_id, content in db.exec(statement):
            if trace_id and trace_id not in words:
                words[trace_id] = shorten(content, chars)
    return words


def shorten(text: str, chars: int = TITLE_CHARS) -> str:
    """``text`` on one line, cut at a word before ``chars`` characters with an ellipsis."""
    flat = " ".join(text.split())
    if len(flat) <= chars:
        return flat
    return flat[:chars].rsplit(" ", 1)[0].rstrip(" ,;:.") + "…"
