"""How a message looks in both the customer chat and the agent view."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import streamlit as st

from core.conversation import (
    Notice,
    TextDelta,
    ToolFinished,
    ToolStarted,
    TurnEvent,
    TurnResult,
)
from core.db.models import Message, MessageRole

AVATARS = {
    MessageRole.USER: "🧑",
    MessageRole.ASSISTANT: "🤖",
    MessageRole.AGENT: "🧑‍💼",
}
TRACE_PAGE = "pages/traces.py"


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


def show_citations(citations: list[dict[str, Any]]) -> None:
    """The cited passages under an answer: document, page and snippet."""
    if not citations:
        return
    with st.expander(f"Sources ({len(citations)})"):
        for citation in citations:
            page = f", page {citation['page']}" if citation.get("page") else ""
            st.markdown(f"**[{citation['number']}] {citation['title']}**{page}")
            st.caption(citation["snippet"])


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
    if trace_id:
        st.page_link(
            TRACE_PAGE, label=f"Trace {trace_id[:12]}…", icon="🔎", query_params={"trace": trace_id}
        )


def show_message(
    message: Message, *, on_feedback: Callable[[int, int], None] | None = None
) -> None:
    """One stored message with, for answers, its metrics, sources, tools, trace and feedback."""
    avatar = AVATARS.get(message.role, "💬")
    name = "assistant" if message.role is MessageRole.AGENT else message.role.value
    with st.chat_message(name, avatar=avatar):
        if message.role is MessageRole.AGENT:
            st.caption("Support agent")
        st.markdown(message.content)
        if message.role is not MessageRole.ASSISTANT:
            return
        show_tool_steps(message.tool_calls)
        show_citations(message.citations)
        if message.error:
            st.caption(f"⚠️ {message.error}")
            return
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
        if on_feedback is not None and message.id is not None:
            _feedback_widget(message.id, on_feedback)


def stream_turn(events: Iterator[TurnEvent]) -> TurnResult | None:
    """Show a turn as it runs: tools in a status block, the answer streamed, notices as info."""
    holder: dict[str, TurnResult] = {}
    status_box: list[Any] = []
    streamed: list[str] = []

    def text_only() -> Iterator[str]:
        for event in events:
            match event:
                case TextDelta(text=text):
                    streamed.append(text)
                    yield text
                case ToolStarted(name=name, arguments=arguments):
                    if not status_box:
                        status_box.append(st.status("Using tools…", expanded=True))
                    status_box[0].write(f"Running `{name}({_arguments(arguments)})`…")
                case ToolFinished(step=step):
                    mark = "done" if step.ok else "could not finish"
                    status_box[0].write(f"`{step.name}` {mark}.")
                case Notice(text=text):
                    st.info(text, icon="🔒")
                case TurnResult():
                    holder["result"] = event
                    if not streamed:
                        yield event.text
        if status_box:
            status_box[0].update(label="Tools finished", state="complete", expanded=False)

    with st.chat_message("assistant", avatar=AVATARS[MessageRole.ASSISTANT]):
        st.write_stream(text_only())
    return holder.get("result")


def _feedback_widget(message_id: int, on_feedback: Callable[[int, int], None]) -> None:
    key = f"feedback_{message_id}"

    def changed() -> None:
        value = st.session_state.get(key)
        if value is not None:
            on_feedback(message_id, 1 if value == 1 else -1)

    st.feedback("thumbs", key=key, on_change=changed)


def _arguments(arguments: dict[str, Any]) -> str:
    return ", ".join(f"{name}={value!r}" for name, value in arguments.items())
