"""How a message looks in both the customer chat and the agent view."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import streamlit as st

from core.conversation.engine import CLOSED_EARLY
from core.conversation.turn_queue import LiveTurn, QueuedMessage
from core.db.models import Message, MessageRole
from core.directory import CustomerGuide
from pages._shared.navigation import TRACES_PAGE

AVATARS = {
    MessageRole.USER: "🧑",
    MessageRole.ASSISTANT: "🤖",
    MessageRole.AGENT: "🧑‍💼",
}
SNIPPET_CHARS = 220
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$])")
_TABLE_RULE = re.compile(r"\|?(\s*:?-{3,}:?\s*\|)+\s*:?-*:?")
_CELL_BREAKS = re.compile(r"\s*\|[\s|]*")
_HEADING = re.compile(r"(^|\s)#{1,6}\s+")
_EMPHASIS = re.compile(r"(\*\*|__|`)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def format_cost(cost: Decimal | float | None) -> str:
    """``$0.000184`` with enough digits to see a cheap call; ``unpriced`` when unknown."""
    if cost is None:
        return "unpriced"
    value = float(cost)
    if value == 0:
        return "$0"
    return f"${value:.6f}" if value < 0.01 else f"${value:.4f}"


def metrics_line(
    *,
    model: str | None,
    provider: str | None,
    simulated: bool | None,
    input_tokens: int | None,
    output_tokens: int | None,
    cost: Decimal | float | None,
    latency_ms: float | None,
    cached: bool = False,
) -> str:
    """``gpt-4o-mini · openai (simulated) · 812 → 95 tokens · $0.000184 · 1.24 s``."""
    where = f"{provider or '?'} ({'simulated' if simulated else 'real'})"
    parts = [model or "?", where]
    if cached:
        parts.append("from cache")
    parts.append(f"{input_tokens or 0:,} → {output_tokens or 0:,} tokens")
    parts.append(format_cost(cost))
    if latency_ms is not None:
        parts.append(f"{latency_ms / 1000:.2f} s")
    return " · ".join(parts)


def plain_snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """A source passage as one line of plain text, safe to hand to ``st.caption``.

    Markdown that the passage was written in (headings, tables, emphasis, links) is dropped,
    whitespace collapsed, the text cut at a word near ``limit`` and what is left escaped, so
    a table row reads ``Everyone · 30 days`` instead of becoming a heading full of pipes.
    """
    flat = _LINK.sub(r"\1", text)
    flat = _TABLE_RULE.sub(" ", flat)
    flat = _CELL_BREAKS.sub(" · ", f" {flat} ").strip(" ·")
    flat = _HEADING.sub(r"\1", flat)
    flat = " ".join(_EMPHASIS.sub("", flat).split())
    if len(flat) > limit:
        flat = flat[:limit].rsplit(" ", 1)[0].rstrip(" ·,;:") + "…"
    return _MARKDOWN_SPECIALS.sub(r"\\\1", flat)


def sources_label(citations: list[dict[str, Any]]) -> str:
    """``Sources [1] [3]``: the numbers the answer cites, not a count that can contradict them."""
    return "Sources " + " ".join(f"\\[{number}\\]" for number in _numbers(citations))


def show_citations(citations: list[dict[str, Any]]) -> None:
    """The cited passages under an answer, numbered as the answer cites them."""
    if not citations:
        return
    ordered = sorted(citations, key=lambda c: c.get("number") or 0)
    with st.expander(sources_label(ordered)):
        for citation in ordered:
            page = f", page {citation['page']}" if citation.get("page") else ""
            title = _MARKDOWN_SPECIALS.sub(r"\\\1", str(citation["title"]))
            st.markdown(f"**\\[{citation['number']}\\] {title}**{page}")
            st.caption(plain_snippet(str(citation.get("snippet") or "")))


def show_tool_steps(steps: list[dict[str, Any]]) -> None:
    """Tools an answer ran, collapsed."""
    if not steps:
        return
    with st.expander(f"Tools used ({len(steps)})"):
        for step in steps:
            mark = "✅" if step["ok"] else "⚠️"
            st.markdown(f"{mark} `{step['name']}({_arguments(step['arguments'])})`")
            st.code(step["result"], language="json")


def show_trace_link(trace_id: str | None) -> None:
    """A link to the message's trace on the Traces page (only for roles that can open it)."""
    if trace_id:
        st.page_link(
            TRACES_PAGE,
            label=f"Trace {trace_id[:12]}…",
            icon=":material/timeline:",
            query_params={"trace": trace_id},
        )


def show_message(
    message: Message,
    *,
    on_feedback: Callable[[int, int | None], None] | None = None,
    vote: int | None = None,
    trace_link: bool = False,
    notes: tuple[str, ...] = (),
) -> None:
    """One stored message with, for answers, its metrics, sources, tools and feedback.

    ``on_feedback(message_id, score)`` gets +1, -1, or ``None`` when the thumb is withdrawn;
    ``vote`` is the stored vote the thumbs start from. ``notes`` are shown under the message
    (a privacy notice, an attached file); ``trace_link`` adds a link to the message's trace.
    """
    avatar = AVATARS.get(message.role, "💬")
    name = "assistant" if message.role is MessageRole.AGENT else message.role.value
    with st.chat_message(name, avatar=avatar):
        if message.role is MessageRole.AGENT:
            st.caption("Support agent")
        if message.role is MessageRole.USER:
            # A customer's words as they typed them: Markdown there could make every staff
            # browser that opens the transcript fetch a remote image.
            st.text(message.content, width="stretch")
        else:
            st.markdown(message.content)
        for note in notes:
            st.caption(note)
        if message.role is MessageRole.ASSISTANT:
            _answer_details(message)
        if trace_link:
            show_trace_link(message.trace_id)
        if (
            message.role is MessageRole.ASSISTANT
            and on_feedback is not None
            and message.id is not None
            and not message.error
        ):
            _feedback_widget(message.id, on_feedback, vote)


def _answer_details(message: Message) -> None:
    show_tool_steps(message.tool_calls)
    show_citations(message.citations)
    if message.error == CLOSED_EARLY:
        st.caption("⚠️ Cut short: a new message was sent before this answer finished.")
    elif message.error:
        st.caption(f"⚠️ {message.error}")
    if message.model or message.input_tokens or message.output_tokens:
        st.caption(
            metrics_line(
                model=message.model,
                provider=message.provider,
                simulated=message.simulated,
                input_tokens=message.input_tokens,
                output_tokens=message.output_tokens,
                cost=message.cost_usd,
                latency_ms=message.latency_ms,
            )
        )


def traced_turns(messages: list[Message]) -> set[int]:
    """Ids of the messages that carry a turn's trace link: each turn's last stored message (the
    answer, or the customer's message when nothing answered it, e.g. while an agent has it)."""
    last: dict[str, int] = {}
    for message in messages:
        if message.trace_id and message.id is not None and message.role is not MessageRole.SYSTEM:
            last[message.trace_id] = message.id
    return set(last.values())


def show_live_turn(live: LiveTurn) -> None:
    """The message being answered and its answer so far: tool steps, notices, streamed text."""
    with st.chat_message("user", avatar=AVATARS[MessageRole.USER]):
        st.text(live.message.request.text, width="stretch")
        for name, _ in live.message.files:
            st.caption(f"📎 {name}")
    with st.chat_message("assistant", avatar=AVATARS[MessageRole.ASSISTANT]):
        if live.reading:
            st.caption(f"Reading {live.reading}…")
        if live.steps:
            done = live.answer != ""
            with st.status(
                "Tools finished" if done else "Using tools…",
                state="complete" if done else "running",
                expanded=not done,
            ):
                for step in live.steps:
                    st.write(step)
        for notice in live.notices:
            st.info(notice, icon="🔒")
        if live.answer:
            st.markdown(live.answer)


def show_demo_guide(guide: CustomerGuide) -> None:
    """What the chosen customer has and what to ask as them, for whoever gives the demo."""
    with st.expander("Demo guide: orders, bookings, things to try", icon="🧭"):
        orders = ", ".join(f"{o.number} ({o.status.value.replace('_', ' ')})" for o in guide.orders)
        st.markdown(f"**Orders:** {orders or 'none yet'}")
        bookings = ", ".join(
            f"{b.service}, {b.location}, {b.starts_at:%a %-d %b %H:%M} ({b.status.value})"
            for b in guide.bookings
        )
        st.markdown(f"**Bookings:** {bookings or 'none'}")
        tries = [_MARKDOWN_SPECIALS.sub(r"\\\1", text) for text in guide.things_to_try]
        st.markdown("**Things to try**\n" + "".join(f"\n- {text}" for text in tries))


def show_waiting(messages: tuple[QueuedMessage, ...]) -> None:
    """Messages sent while an answer streams, each to be answered in turn."""
    for message in messages:
        with st.chat_message("user", avatar=AVATARS[MessageRole.USER]):
            st.text(message.request.text, width="stretch")
            st.caption("⏳ Sent — answered after the message before it.")


def _feedback_widget(
    message_id: int, on_feedback: Callable[[int, int | None], None], vote: int | None
) -> None:
    """Thumbs showing the stored vote; st.feedback numbers thumbs down 0 and thumbs up 1."""
    key = f"feedback_{message_id}"

    def changed() -> None:
        value = st.session_state.get(key)
        on_feedback(message_id, None if value is None else 1 if value == 1 else -1)

    default = None if vote is None else 1 if vote > 0 else 0
    st.feedback("thumbs", key=key, default=default, on_change=changed)


def _numbers(citations: list[dict[str, Any]]) -> list[int]:
    return sorted({int(c["number"]) for c in citations if c.get("number") is not None})


def _arguments(arguments: dict[str, Any]) -> str:
    return ", ".join(f"{name}={value!r}" for name, value in arguments.items())
