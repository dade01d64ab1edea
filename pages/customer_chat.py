"""Customer Chat: a support conversation with streamed, cited, priced answers."""

import streamlit as st

from core.conversation import TurnRequest, list_conversations, list_messages, record_feedback
from core.conversation.routes import NAMED_ROUTES
from core.directory import list_customers
from core.errors import ObservatoryError
from core.experiments import list_experiments
from pages._shared.chat_widgets import format_cost, show_message, stream_turn
from pages._shared.resources import get_services

services = get_services()
state = st.session_state

customers = list_customers(services.db)
if not customers:
    st.warning("There are no customers yet: the demo data has not been loaded.")
    st.stop()

with st.sidebar:
    st.subheader("Chat as")
    by_id = {customer.id: customer for customer in customers}
    user_id = st.selectbox(
        "Customer",
        list(by_id),
        format_func=lambda key: f"{by_id[key].name} ({by_id[key].email})",
        key="chat_user_id",
    )
    if state.get("chat_conversation_owner") != user_id:
        state.chat_conversation_id = None
        state.chat_conversation_owner = user_id
    experiments = {e.name: e for e in list_experiments(services.db)}
    routing = st.selectbox(
        "Route or experiment",
        [*NAMED_ROUTES, *(f"Experiment: {name}" for name in experiments)],
        key="chat_routing",
    )
    if st.button("New conversation", icon="➕", use_container_width=True):
        state.chat_conversation_id = None
    past = list_conversations(services.db, user_id, limit=20)
    if past:
        labels = {c.id: f"{c.title or 'Untitled'} · {c.updated_at:%d %b %H:%M}" for c in past}
        current = state.get("chat_conversation_id")
        chosen = st.radio(
            "Past conversations",
            list(labels),
            index=list(labels).index(current) if current in labels else None,
            format_func=labels.__getitem__,
        )
        if chosen and chosen != current:
            state.chat_conversation_id = chosen

conversation_id: str | None = state.get("chat_conversation_id")
route = NAMED_ROUTES.get(routing)
experiment = routing.removeprefix("Experiment: ") if route is None else None

st.title("💬 Customer chat")
st.caption(f"Northwind Outfitters support · chatting as {by_id[user_id].name}")

messages = list_messages(services.db, conversation_id) if conversation_id else []
with st.sidebar:
    total = sum((m.cost_usd for m in messages if m.cost_usd is not None), start=0)
    st.metric("This conversation so far", format_cost(total) if messages else "$0")


def _feedback(message_id: int, score: int) -> None:
    record_feedback(services.db, message_id, score, user_id=user_id)


for message in messages:
    if message.role.value != "system":
        show_message(message, on_feedback=_feedback)

if conversation_id and st.button("Talk to a human", icon="🙋"):
    services.desk.escalate(conversation_id, user_id)
    st.success("An agent has been asked to join; they will reply here.")

prompt = st.chat_input(
    "Ask about an order, a return, an appointment…",
    accept_file=True,
    file_type=["pdf", "txt", "md"],
)
if prompt:
    try:
        if conversation_id is None:
            conversation_id = services.engine.start_conversation(user_id, route=route)
            state.chat_conversation_id = conversation_id
        for upload in prompt.files:
            with st.spinner(f"Reading {upload.name}…"):
                services.kb.ingest(
                    upload.name, upload.getvalue(), source="conversation", scope=conversation_id
                )
            st.toast(f"{upload.name} is ready to ask about.", icon="📄")
        text = prompt.text or (f"Please summarise {prompt.files[0].name}." if prompt.files else "")
        if text:
            with st.chat_message("user", avatar="🧑"):
                st.markdown(text)
            request = TurnRequest(
                user_id=user_id,
                text=text,
                conversation_id=conversation_id,
                route=route,
                experiment=experiment,
            )
            stream_turn(services.engine.stream(request))
    except ObservatoryError as exc:
        st.error(str(exc), icon="⚠️")
    else:
        st.rerun()
