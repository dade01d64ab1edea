"""Agent View: the live queue of conversations that may need a human, and the desk to answer."""

import functools
from collections.abc import Callable

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from core.actors import Actor
from core.conversation import (
    QueueFilter,
    QueueRow,
    get_conversation,
    list_messages,
    list_queue,
    list_tickets,
)
from core.db.models import Conversation, ConversationStatus, MessageRole, TicketPriority
from core.errors import NotAllowed, ObservatoryError
from pages._shared.auth import check_page_role
from pages._shared.chat_widgets import format_cost, show_message, show_trace_link, traced_turns
from pages._shared.consent import describe_pending
from pages._shared.resources import get_services
from pages._shared.roles import current_user

check_page_role(__file__)

REFRESH_S = 5
# The open conversation's id: set only by the callbacks below, never by a widget, so a
# picker label can never stand in for an id.
OPEN_KEY = "agent_open"
PICKER_KEY = "agent_picker"
NOTICE_KEY = "agent_notice"

services = get_services()
state = st.session_state
agent = current_user()
me = Actor.for_user(agent)

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
        actor=me,
    )


def _label(row: QueueRow) -> str:
    """Unique per conversation: two with the same customer and title still differ."""
    return f"{row.customer} · {row.title or row.last_message[:40]} · #{row.conversation_id[:6]}"


def _open(conversation_id: str) -> None:
    """Open a conversation, then run the whole page once (the panel is outside the fragment)."""
    state[OPEN_KEY] = conversation_id
    st.rerun()


def _open_picked_row() -> None:
    """A row picked in the queue table opens its conversation; the table starts afresh."""
    key = f"agent_queue_table_{state.get('agent_table_version', 0)}"
    picked = state[key].selection.rows if key in state else []
    ids = state.get("agent_queue_ids", [])
    if picked and picked[0] < len(ids):
        state.agent_table_version = state.get("agent_table_version", 0) + 1
        _open(ids[picked[0]])


def _open_picked_option() -> None:
    chosen = state.get(PICKER_KEY)
    if chosen in state.get("agent_picker_ids", []):
        _open(chosen)


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
    labels = {r.conversation_id: _label(r) for r in rows}
    opened = state.get(OPEN_KEY)
    if opened and opened not in labels:
        labels[opened] = f"The open conversation (not in this filter) · #{opened[:6]}"
    state.agent_picker_ids = list(labels)
    state[PICKER_KEY] = opened if opened in labels else None
    st.selectbox(
        "Open a conversation",
        list(labels),
        index=None,
        format_func=lambda key: labels.get(key, "—"),
        placeholder="Pick one from the queue",
        key=PICKER_KEY,
        on_change=_open_picked_option,
    )


queue_panel()
conversation_id: str | None = state.get(OPEN_KEY)
if not conversation_id:
    st.stop()


def _act(action: Callable[[], str]) -> None:
    """Run one desk action in a callback, before the page is drawn, so the page shows its
    result (the sentence ``action`` returns) in the same run, which runs the whole page: the
    queue's status changes too."""
    try:
        state[NOTICE_KEY] = ("success", action())
    except ObservatoryError as exc:
        state[NOTICE_KEY] = ("error", str(exc))
    st.rerun()


def _claimed(conversation_id: str) -> str:
    services.desk.claim(conversation_id, agent.id or 0, actor=me)
    return "Claimed: the assistant stays out of this conversation."


def _resolved(conversation_id: str) -> str:
    closed = services.desk.resolve(conversation_id, agent.id, actor=me)
    tickets = f" and closed {', '.join(f'#{t}' for t in closed)}" if closed else ""
    return f"Resolved{tickets}; the customer has been told."


def _handed_back(conversation_id: str) -> str:
    services.desk.hand_back(conversation_id, actor=me)
    return "Handed back: the assistant answers the customer again."


def _desk_button(
    column: DeltaGenerator,
    label: str,
    icon: str,
    action: Callable[[str], str],
    *,
    disabled: bool,
    help_text: str | None = None,
) -> None:
    """A button that runs ``action`` on the open conversation and shows its sentence."""
    column.button(
        label,
        icon=icon,
        help=help_text,
        disabled=disabled,
        on_click=_act,
        args=(functools.partial(action, conversation_id),),
    )


def _create_ticket(conversation: Conversation) -> None:
    title = str(state.get("agent_ticket_title") or "")
    priority = TicketPriority(state.get("agent_ticket_priority") or TicketPriority.NORMAL)

    def create() -> str:
        ticket_id = services.desk.open_ticket(conversation.id, title, priority, actor=me)
        return f"Ticket #{ticket_id} opened ({priority.value} priority)."

    _act(create)


def _ticket_form(conversation: Conversation) -> None:
    with (
        st.popover("Create ticket", icon="🎫"),
        st.form("agent_ticket_form", clear_on_submit=True, border=False),
    ):
        st.text_input(
            "Title",
            key="agent_ticket_title",
            max_chars=120,
            placeholder="e.g. Replace the dented stove",
        )
        st.selectbox(
            "Priority",
            list(TicketPriority),
            index=list(TicketPriority).index(TicketPriority.NORMAL),
            format_func=lambda p: p.value.capitalize(),
            key="agent_ticket_priority",
        )
        st.form_submit_button(
            "Open ticket", type="primary", on_click=_create_ticket, args=(conversation,)
        )


@st.fragment(run_every=REFRESH_S)
def conversation_panel() -> None:
    """Status, actions, tickets and the transcript of the open conversation, kept current."""
    try:
        conversation = get_conversation(services.db, conversation_id, actor=me)
    except NotAllowed as exc:
        st.error(str(exc))
        return
    except ObservatoryError as exc:
        st.warning(f"{exc} Pick another conversation from the queue.")
        return
    messages = list_messages(services.db, conversation_id, actor=me)
    status = conversation.status
    st.subheader(conversation.title or "Conversation")
    quality = conversation.quality_score
    st.caption(
        f"Status **{status.value}** · cost {format_cost(conversation.total_cost_usd)}"
        f" · quality {quality if quality is not None else '—'}"
        f" · flags: {', '.join(conversation.flag_reasons) or 'none'}"
    )
    if notice := state.pop(NOTICE_KEY, None):
        kind, text = notice
        (st.error if kind == "error" else st.success)(text)
    actions = st.columns(4)
    _desk_button(actions[0], "Claim", "✋", _claimed, disabled=status is ConversationStatus.CLAIMED)
    _desk_button(
        actions[1],
        "Resolve",
        "✅",
        _resolved,
        disabled=status is ConversationStatus.RESOLVED,
        help_text="Close the conversation and its open tickets, and tell the customer.",
    )
    with actions[2]:
        _ticket_form(conversation)
    _desk_button(
        actions[3],
        "Hand back",
        "🤖",
        _handed_back,
        disabled=status is ConversationStatus.ACTIVE,
        help_text="Let the assistant answer the customer again.",
    )
    tickets = list_tickets(services.db, conversation_id, actor=me)
    if tickets:
        listed = (f"#{t.id} {t.subject} ({t.status.value}, {t.priority.value})" for t in tickets)
        st.markdown("🎫 **Tickets** · " + " · ".join(listed))
    links = traced_turns(messages)
    for message in messages:
        if message.role is not MessageRole.SYSTEM:
            show_message(message, trace_link=message.id in links)
    if waiting := describe_pending(services.engine.pending_action(conversation_id, actor=me)):
        st.caption(waiting)


def _draft() -> None:
    try:
        draft = services.desk.draft_reply(conversation_id, actor=me)
    except ObservatoryError as exc:
        state.agent_draft_error = str(exc)
        return
    state.agent_draft = draft.reply
    state.agent_draft_trace = draft.trace_id
    state.agent_draft_facts = (
        f"**Intent** {draft.intent} · **sentiment** {draft.sentiment}"
        f"{' · recovered from invalid JSON' if draft.recovered else ''}\n\n{draft.summary}"
    )


def _send() -> None:
    """Store the reply before the page is drawn, so the transcript shows it in this run."""
    text = str(state.get("agent_draft") or "")
    try:
        services.desk.reply(conversation_id, agent.id or 0, text, actor=me)
    except ObservatoryError as exc:
        state[NOTICE_KEY] = ("error", str(exc))
        return
    state.agent_draft = ""
    state.pop("agent_draft_facts", None)
    state.pop("agent_draft_trace", None)


transcript, assist = st.columns([3, 2])
with transcript:
    st.divider()
    conversation_panel()

with assist:
    st.divider()
    st.markdown("#### AI suggestion")
    st.button("Draft a reply", icon="✨", on_click=_draft)
    if error := state.pop("agent_draft_error", None):
        st.error(error)
    if state.get("agent_draft_facts"):
        st.markdown(state.agent_draft_facts)
        show_trace_link(state.get("agent_draft_trace"))
    reply = st.text_area("Reply to the customer", key="agent_draft", height=180)
    st.button(
        "Send as agent",
        icon="📨",
        type="primary",
        disabled=not reply.strip(),
        on_click=_send,
    )
