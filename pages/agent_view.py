"""Agent View: the live queue of conversations that may need a human, and the desk to answer."""

import pandas as pd
import streamlit as st

from core.conversation import QueueFilter, QueueRow, get_conversation, list_messages, list_queue
from core.db.models import ConversationStatus, MessageRole
from core.errors import ObservatoryError
from pages._shared.chat_widgets import format_cost, show_message
from pages._shared.resources import get_services
from pages._shared.roles import current_user

REFRESH_S = 5

services = get_services()
state = st.session_state
agent = current_user()

st.title("🧑‍💼 Agent view")
st.caption(
    f"Signed in as {agent.name} ({agent.role.value}). The queue refreshes every {REFRESH_S} s."
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


@st.fragment(run_every=REFRESH_S)
def queue_table() -> None:
    rows = load_queue()
    if not rows:
        st.info("Nothing here: no conversation matches this filter yet.")
        return
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
    st.dataframe(table, hide_index=True, use_container_width=True)


queue_table()
rows = load_queue()
labels = {r.conversation_id: f"{r.customer} · {r.title or r.last_message[:40]}" for r in rows}
conversation_id: str | None = st.selectbox(
    "Open a conversation",
    list(labels),
    index=None,
    format_func=lambda key: labels.get(key, key),
    placeholder="Pick one from the queue",
    key="agent_open",
)
if not conversation_id:
    st.stop()

conversation = get_conversation(services.db, conversation_id)
st.divider()
st.subheader(conversation.title or "Conversation")
st.caption(
    f"Status **{conversation.status.value}** · cost {format_cost(conversation.total_cost_usd)}"
    f" · quality {conversation.quality_score if conversation.quality_score is not None else '—'}"
    f" · flags: {', '.join(conversation.flag_reasons) or 'none'}"
)

actions = st.columns(4)
try:
    if actions[0].button(
        "Claim", icon="✋", disabled=conversation.status is ConversationStatus.CLAIMED
    ):
        services.desk.claim(conversation_id, agent.id or 0)
        st.rerun()
    if actions[1].button("Resolve", icon="✅"):
        services.desk.resolve(conversation_id)
        st.rerun()
    if actions[2].button("Create ticket", icon="🎫"):
        ticket = services.desk.escalate(
            conversation_id, conversation.user_id, subject="Opened by agent"
        )
        st.toast(f"Ticket #{ticket} created.")
    if actions[3].button("Hand back to assistant", icon="🤖"):
        services.desk.hand_back(conversation_id)
        st.rerun()
except ObservatoryError as exc:
    st.error(str(exc))

transcript, assist = st.columns([3, 2])
with transcript:

    @st.fragment(run_every=REFRESH_S)
    def transcript_panel() -> None:
        for message in list_messages(services.db, conversation_id):
            if message.role is not MessageRole.SYSTEM:
                show_message(message)

    transcript_panel()

with assist:
    st.markdown("#### AI suggestion")
    if st.button("Draft a reply", icon="✨"):
        try:
            draft = services.desk.draft_reply(conversation_id)
        except ObservatoryError as exc:
            st.error(str(exc))
        else:
            state.agent_draft = draft.reply
            state.agent_draft_facts = (
                f"**Intent** {draft.intent} · **sentiment** {draft.sentiment}"
                f"{' · recovered from invalid JSON' if draft.recovered else ''}\n\n{draft.summary}"
            )
    if state.pop("agent_clear_draft", False):
        state.agent_draft = ""
        state.pop("agent_draft_facts", None)
    if state.get("agent_draft_facts"):
        st.markdown(state.agent_draft_facts)
    reply = st.text_area("Reply to the customer", key="agent_draft", height=180)
    if st.button("Send as agent", icon="📨", type="primary", disabled=not reply.strip()):
        try:
            services.desk.reply(conversation_id, agent.id or 0, reply)
        except ObservatoryError as exc:
            st.error(str(exc))
        else:
            state.agent_clear_draft = True
            st.rerun()
