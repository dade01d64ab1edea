"""Agent View: the live queue of conversations that may need a human, and the desk to answer."""

from collections.abc import Callable

import pandas as pd
import streamlit as st

from core.conversation import (
    QueueFilter,
    QueueRow,
    get_conversation,
    list_messages,
    list_queue,
    list_tickets,
)
from core.db.models import Conversation, ConversationStatus, MessageRole
from core.errors import ObservatoryError
from pages._shared.chat_widgets import format_cost, show_message, show_trace_link, traced_turns
from pages._shared.consent import describe_pending
from pages._shared.resources import get_services
from pages._shared.roles import current_user

REFRESH_S = 5

services = get_services()
state = st.session_state
agent = current_user()

st.title("🧑‍💼 Agent view")
st.caption(
    f"Signed in as {agent.name} ({agent.role.value}). The queue and the open conversation "
    f"refresh every {REFRESH_S} s; pick a row or a conversation below to open it."
)

which = (
    st.segmented_control("Show", list(QueueFilter), default=QueueFilter.ALL, key="agent_filter")
    or QueueFilter.ALL
)


def load_queue() -> list[QueueRow]:
    return list_queue(
        services.db,
        QueueFilter(which),
        low_quality_below=services.settings.engine.low_quality_threshold,
    )


def _open_picked_row() -> None:
    """A row picked in the queue table opens its conversation; the table starts afresh."""
    key = f"agent_queue_table_{state.get('agent_table_version', 0)}"
    picked = state[key].selection.rows if key in state else []
    ids = state.get("agent_queue_ids", [])
    if picked and picked[0] < len(ids):
        state.agent_open = ids[picked[0]]
        state.agent_table_version = state.get("agent_table_version", 0) + 1
    _show_picked()


def _show_picked() -> None:
    """A pick in the queue reruns the whole page in the same run that takes the pick: the
    conversation panel is outside the queue's fragment."""
    st.rerun()


@st.fragment(run_every=REFRESH_S)
def queue_panel() -> None:
    """The queue and the conversation picker: new conversations appear without a click."""
    rows = load_queue()
    state.agent_queue_ids = [r.conversation_id for r in rows]
    if not rows:
        st.info("Nothing here: no conversation matches this filter yet.")
    else:
        table = pd.DataFrame(
            {
                "customer": [r.customer for r in rows],
                "last customer message": [r.last_message[:80] for r in rows],
                "status": [r.status.value for r in rows],
                "cost": [format_cost(r.cost_usd) for r in rows],
                "quality": [r.quality for r in rows],
                "flags": [", ".join(r.flag_reasons) for r in rows],
                "updated": [r.updated_at for r in rows],
            }
        )
        st.dataframe(
            table,
            hide_index=True,
            width="stretch",
            on_select=_open_picked_row,
            selection_mode="single-row",
            key=f"agent_queue_table_{state.get('agent_table_version', 0)}",
        )
    labels = {r.conversation_id: f"{r.customer} · {r.title or r.last_message[:40]}" for r in rows}
    opened = state.get("agent_open")
    if opened and opened not in labels:
        labels[opened] = "The open conversation (not in this filter)"
    st.selectbox(
        "Open a conversation",
        list(labels),
        index=None,
        format_func=lambda key: labels.get(key, key),
        placeholder="Pick one from the queue",
        key="agent_open",
        on_change=_show_picked,
    )


queue_panel()
conversation_id: str | None = state.get("agent_open")
if not conversation_id:
    st.stop()


def _act(action: Callable[[], object]) -> None:
    """Run one desk action, then redraw the whole page so every status on it is current."""
    try:
        action()
    except ObservatoryError as exc:
        st.error(str(exc))
    else:
        st.rerun()


def _open_ticket(conversation: Conversation) -> None:
    """A ticket for the conversation; a claimed conversation stays with its agent."""
    with st.spinner("Opening a ticket…"):
        services.desk.escalate(conversation.id, conversation.user_id, subject="Opened by agent")


@st.fragment(run_every=REFRESH_S)
def conversation_panel() -> None:
    """Status, actions, tickets and the transcript of the open conversation, kept current."""
    conversation = get_conversation(services.db, conversation_id)
    messages = list_messages(services.db, conversation_id)
    status = conversation.status
    st.subheader(conversation.title or "Conversation")
    quality = conversation.quality_score
    st.caption(
        f"Status **{status.value}** · cost {format_cost(conversation.total_cost_usd)}"
        f" · quality {quality if quality is not None else '—'}"
        f" · flags: {', '.join(conversation.flag_reasons) or 'none'}"
    )
    actions = st.columns(4)
    if actions[0].button("Claim", icon="✋", disabled=status is ConversationStatus.CLAIMED):
        _act(lambda: services.desk.claim(conversation.id, agent.id or 0))
    if actions[1].button("Resolve", icon="✅", disabled=status is ConversationStatus.RESOLVED):
        _act(lambda: services.desk.resolve(conversation.id))
    if actions[2].button("Create ticket", icon="🎫"):
        _act(lambda: _open_ticket(conversation))
    if actions[3].button(
        "Hand back",
        icon="🤖",
        help="Let the assistant answer the customer again.",
        disabled=status is ConversationStatus.ACTIVE,
    ):
        _act(lambda: services.desk.hand_back(conversation.id))
    tickets = list_tickets(services.db, conversation_id)
    if tickets:
        listed = (f"#{t.id} {t.subject} ({t.status.value})" for t in tickets)
        st.markdown("🎫 **Tickets** · " + " · ".join(listed))
    links = traced_turns(messages)
    for message in messages:
        if message.role is not MessageRole.SYSTEM:
            show_message(message, trace_link=message.id in links)
    if waiting := describe_pending(services.engine.pending_action(conversation_id)):
        st.caption(waiting)


transcript, assist = st.columns([3, 2])
with transcript:
    st.divider()
    conversation_panel()

with assist:
    st.divider()
    st.markdown("#### AI suggestion")
    if st.button("Draft a reply", icon="✨"):
        try:
            draft = services.desk.draft_reply(conversation_id)
        except ObservatoryError as exc:
            st.error(str(exc))
        else:
            state.agent_draft = draft.reply
            state.agent_draft_trace = draft.trace_id
            state.agent_draft_facts = (
                f"**Intent** {draft.intent} · **sentiment** {draft.sentiment}"
                f"{' · recovered from invalid JSON' if draft.recovered else ''}\n\n{draft.summary}"
            )
    if state.pop("agent_clear_draft", False):
        state.agent_draft = ""
        state.pop("agent_draft_facts", None)
        state.pop("agent_draft_trace", None)
    if state.get("agent_draft_facts"):
        st.markdown(state.agent_draft_facts)
        show_trace_link(state.get("agent_draft_trace"))
    reply = st.text_area("Reply to the customer", key="agent_draft", height=180)
    if st.button("Send as agent", icon="📨", type="primary", disabled=not reply.strip()):
        try:
            services.desk.reply(conversation_id, agent.id or 0, reply)
        except ObservatoryError as exc:
            st.error(str(exc))
        else:
            state.agent_clear_draft = True
            st.rerun()
