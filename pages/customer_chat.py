"""Customer Chat: a support conversation with streamed, cited, priced answers."""

import threading
from datetime import datetime

import streamlit as st

from core.conversation import (
    TurnRequest,
    TurnResult,
    customer_votes,
    get_conversation,
    list_conversations,
    list_messages,
    record_feedback,
    withdraw_feedback,
)
from core.conversation.routes import NAMED_ROUTES
from core.db.models import ConversationStatus, KbDocument, Message, MessageRole
from core.directory import list_customers
from core.errors import ObservatoryError
from core.experiments import list_experiments
from pages._shared.chat_widgets import format_cost, show_message, stream_turn, traced_turns
from pages._shared.resources import get_services
from pages._shared.roles import sees_traces

REFRESH_S = 4
TURN_WAIT_S = 30
WITH_A_HUMAN = {
    ConversationStatus.ESCALATED: "An agent has been asked to join; they will reply here.",
    ConversationStatus.CLAIMED: "A support agent is handling this conversation.",
}

services = get_services()
state = st.session_state
max_chars = services.settings.engine.max_message_chars

customers = list_customers(services.db)
if not customers:
    st.warning("There are no customers yet: the demo data has not been loaded.")
    st.stop()


def _new_conversation() -> None:
    state.chat_conversation_id = None


def _reopen() -> None:
    state.chat_conversation_id = state.get("chat_past")


def _check_length() -> None:
    """Refuse an over-long message before anything is shown, and put it back in the box."""
    prompt = state.get("chat_prompt")
    text = (getattr(prompt, "text", None) or "").strip()
    if len(text) > max_chars:
        state.chat_too_long = len(text)
        state.chat_prompt = text


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
    st.button("New conversation", icon="➕", width="stretch", on_click=_new_conversation)
    past = list_conversations(services.db, user_id, limit=20)
    if past:
        labels = {c.id: f"{c.title or 'Untitled'} · {c.updated_at:%d %b %H:%M}" for c in past}
        # The radio mirrors the open conversation; only a click on it (the callback) opens one.
        current = state.get("chat_conversation_id")
        state.chat_past = current if current in labels else None
        st.radio(
            "Past conversations",
            list(labels),
            index=None,
            format_func=labels.__getitem__,
            key="chat_past",
            on_change=_reopen,
        )

conversation_id: str | None = state.get("chat_conversation_id")
route = NAMED_ROUTES.get(routing)
experiment = routing.removeprefix("Experiment: ") if route is None else None

st.title("💬 Customer chat")
st.caption(f"Northwind Outfitters support · chatting as {by_id[user_id].name}")

messages = list_messages(services.db, conversation_id) if conversation_id else []
with st.sidebar:
    total = sum((m.cost_usd for m in messages if m.cost_usd is not None), start=0)
    st.metric("This conversation so far", format_cost(total) if messages else "$0")


def _feedback(message_id: int, score: int | None) -> None:
    if score is None:
        withdraw_feedback(services.db, message_id, user_id=user_id)
    else:
        record_feedback(services.db, message_id, score, user_id=user_id)


def _attachment_notes(messages: list[Message], files: list[KbDocument]) -> dict[int, list[str]]:
    """Each attached file, noted under the first customer message sent after it."""
    notes: dict[int, list[str]] = {}
    asked = [m for m in messages if m.role is MessageRole.USER and m.id is not None]
    for file in sorted(files, key=lambda f: _naive(f.created_at)):
        after = next((m for m in asked if _naive(m.created_at) >= _naive(file.created_at)), None)
        if after is not None and after.id is not None:
            chunks = f"{file.chunk_count} chunk{'s' if file.chunk_count != 1 else ''} indexed"
            notes.setdefault(after.id, []).append(f"📎 {file.filename} · {chunks}")
    return notes


def _naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None)


def _keep_notes(result: TurnResult) -> None:
    """What the turn said that is not stored as an answer (a privacy notice, "an agent has it",
    "too many messages"), kept under the customer's message for the rest of the session."""
    notes = [f"🔒 {notice}" for notice in result.notices]
    if result.message_id is None and result.text:
        notes.append(f"ℹ️ {result.text}")
    if notes:
        state.setdefault("chat_notes", {})[result.user_message_id] = tuple(notes)


def show_transcript() -> None:
    """The stored conversation, its status and the way to ask for a person."""
    rows = list_messages(services.db, conversation_id) if conversation_id else []
    links = traced_turns(rows) if sees_traces() else set()
    files = services.kb.list_documents(scope=conversation_id) if conversation_id else []
    notes = _attachment_notes(rows, files)
    kept = state.get("chat_notes", {})
    votes = customer_votes(services.db, conversation_id, user_id) if conversation_id else {}
    for message in rows:
        if message.role is MessageRole.SYSTEM:
            continue
        extra = (*kept.get(message.id, ()), *notes.get(message.id or 0, ()))
        show_message(
            message,
            on_feedback=_feedback,
            vote=votes.get(message.id or 0),
            trace_link=message.id in links,
            notes=extra,
        )
    if not conversation_id:
        return
    status = get_conversation(services.db, conversation_id).status
    if status in WITH_A_HUMAN:
        st.success(WITH_A_HUMAN[status], icon="🙋")
    elif st.button("Talk to a human", icon="🙋"):
        try:
            with st.spinner("Asking an agent to join…"):
                services.desk.escalate(conversation_id, user_id)
        except ObservatoryError as exc:
            st.error(str(exc), icon="⚠️")
        else:
            st.rerun()


status = get_conversation(services.db, conversation_id).status if conversation_id else None
# While a person has the conversation, their replies arrive without the customer doing anything.
st.fragment(show_transcript, run_every=REFRESH_S if status in WITH_A_HUMAN else None)()

if too_long := state.pop("chat_too_long", None):
    st.error(
        f"That message is {too_long:,} characters; a message can be up to {max_chars:,}. "
        "Shorten it (it is still in the box) or attach it as a file instead.",
        icon="⚠️",
    )
prompt = st.chat_input(
    "Ask about an order, a return, an appointment…",
    accept_file=True,
    file_type=["pdf", "txt", "md"],
    key="chat_prompt",
    on_submit=_check_length,
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
            # Streamlit starts this run while the one it replaces may still be streaming an
            # answer; that run stops at its next word and stores what it said. Wait for it, so
            # the transcript keeps the cut answer before this message.
            turn_lock = state.setdefault("chat_turn_lock", threading.Lock())
            waited = turn_lock.acquire(timeout=TURN_WAIT_S)
            try:
                result = stream_turn(services.engine.stream(request))
            finally:
                if waited:
                    turn_lock.release()
            if result is not None:
                _keep_notes(result)
    except ObservatoryError as exc:
        st.error(str(exc), icon="⚠️")
    else:
        st.rerun()
