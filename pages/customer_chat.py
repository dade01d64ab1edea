"""Customer Chat: a support conversation with streamed, cited, priced answers."""

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

import streamlit as st

from core.actors import SYSTEM, Actor
from core.conversation import (
    TurnRequest,
    customer_votes,
    get_conversation,
    list_conversations,
    list_messages,
    record_feedback,
    withdraw_feedback,
)
from core.conversation.attachments import list_attachments
from core.conversation.engine import HELD as AWAY
from core.conversation.routes import NAMED_ROUTES
from core.conversation.turn_queue import Finished, QueuedMessage, TurnQueue
from core.db.models import ConversationStatus, KbDocument, Message, MessageRole
from core.directory import customer_guide, list_customers
from core.errors import ObservatoryError, StorageError
from core.experiments import list_experiments
from pages._shared.auth import check_page_role
from pages._shared.chat_widgets import (
    format_cost,
    show_demo_guide,
    show_live_turn,
    show_message,
    show_waiting,
    traced_turns,
)
from pages._shared.consent import show_consent_card
from pages._shared.resources import get_services
from pages._shared.roles import sees_traces, signed_in

check_page_role(__file__)

T = TypeVar("T")
REFRESH_S = 4
FOLLOW_S = 0.25
"""How often the page checks for a new message while it follows an answer."""
WITH_A_HUMAN = {
    ConversationStatus.ESCALATED: "An agent has been asked to join; they will reply here.",
    ConversationStatus.CLAIMED: "A support agent is handling this conversation.",
}

services = get_services()
state = st.session_state
max_chars = services.settings.engine.max_message_chars


def _read(read: Callable[[], T], fallback: T) -> T:
    """A read of the app database, or ``fallback`` while it is unreachable (the page then says
    so once, and what the customer sends waits in the queue until it is back)."""
    try:
        return read()
    except StorageError:
        state.chat_db_away = True
        return fallback


# Hosted with sign-in, the customer is the signed-in person; the demo picks one in the sidebar.
# The demo's list is kept from the last run that could read it, so the page still draws while
# the database is away.
person = signed_in()
if person is not None:
    customers = [person]
else:
    customers = _read(lambda: list_customers(services.db), state.get("chat_customers", []))
    state.chat_customers = customers
if not customers:
    st.warning("There are no customers yet: the demo data has not been loaded.")
    st.stop()


def _new_conversation() -> None:
    state.chat_conversation_id = None


def _reopen() -> None:
    state.chat_conversation_id = state.get("chat_past")


if "chat_turns" not in state:
    state.chat_turns = TurnQueue(
        services.engine.stream,
        services.kb.ingest_attachment,
        # The queue's own bookkeeping on a conversation ``authorize`` has already let through.
        lambda conversation: max(
            (m.id or 0 for m in list_messages(services.db, conversation, actor=SYSTEM)),
            default=0,
        ),
        authorize=services.engine.authorize,
    )
turns: TurnQueue = state.chat_turns


def _queue_message() -> None:
    """Queue the message the moment it is sent (an over-long one goes back in the box).

    A callback runs before anything else of the run, so a message is queued even when the
    customer sends the next one before this run has drawn anything.
    """
    prompt = state.get("chat_prompt")
    text = (getattr(prompt, "text", None) or "").strip()
    files = list(getattr(prompt, "files", None) or [])
    if len(text) > max_chars:
        state.chat_too_long = len(text)
        state.chat_prompt = text
        return
    if files and not text:
        text = f"Please summarise {files[0].name}."
    if not text:
        return
    chosen = state.chat_routing
    route = NAMED_ROUTES.get(chosen)
    # A customer picked just before sending (that run cut short) gets a conversation of their own.
    mine = state.get("chat_conversation_owner") == state.chat_user_id
    conversation = state.get("chat_conversation_id") if mine else None
    actor = Actor.customer(state.chat_user_id)
    try:
        if conversation is None:
            conversation = services.engine.start_conversation(
                state.chat_user_id, route=route, actor=actor
            )
            state.chat_conversation_id = conversation
            state.chat_conversation_owner = state.chat_user_id
        request = TurnRequest(
            user_id=state.chat_user_id,
            text=text,
            conversation_id=conversation,
            route=route,
            experiment=chosen.removeprefix("Experiment: ") if route is None else None,
            actor=actor,
        )
        turns.submit(QueuedMessage(request, files=tuple((f.name, f.getvalue()) for f in files)))
    except ObservatoryError as exc:
        state.chat_failed = str(exc)
        state.chat_prompt = text


with st.sidebar:
    by_id = {customer.id: customer for customer in customers}
    if person is not None:
        user_id = state.chat_user_id = person.id
    else:
        st.subheader("Chat as")
        user_id = st.selectbox(
            "Customer",
            list(by_id),
            format_func=lambda key: f"{by_id[key].name} ({by_id[key].email})",
            key="chat_user_id",
        )
    if state.get("chat_conversation_owner") != user_id:
        state.chat_conversation_id = None
        state.chat_conversation_owner = user_id
    me = Actor.customer(user_id)
    zone = services.settings.app.store_timezone
    if person is None:
        guide = _read(lambda: customer_guide(services.db, user_id, timezone=zone, actor=me), None)
        if guide is not None:
            show_demo_guide(guide)
    experiments = {e.name: e for e in _read(lambda: list_experiments(services.db), [])}
    st.selectbox(
        "Route or experiment",
        [*NAMED_ROUTES, *(f"Experiment: {name}" for name in experiments)],
        key="chat_routing",
    )
    st.button("New conversation", icon="➕", width="stretch", on_click=_new_conversation)
    past = _read(lambda: list_conversations(services.db, user_id, limit=20, actor=me), [])
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

st.title("💬 Customer chat")
st.caption(f"Northwind Outfitters support · chatting as {by_id[user_id].name}")

messages = (
    _read(lambda: list_messages(services.db, conversation_id, actor=me), [])
    if conversation_id
    else []
)
with st.sidebar:
    total = sum((m.cost_usd for m in messages if m.cost_usd is not None), start=0)
    st.metric("This conversation so far", format_cost(total) if messages else "$0")


def _feedback(message_id: int, score: int | None) -> None:
    if score is None:
        withdraw_feedback(services.db, message_id, user_id=user_id, actor=me)
    else:
        record_feedback(services.db, message_id, score, user_id=user_id, actor=me)


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


def _keep_notes(finished: Finished) -> None:
    """What a turn said that is not stored as an answer (a privacy notice, "an agent has it",
    "too many messages"), kept under the customer's message for the rest of the session; a
    message that could not be sent at all gets its sentence."""
    result = finished.result
    if finished.error:
        state.chat_failed = finished.error
    if result is None:
        return
    notes = [f"🔒 {notice}" for notice in result.notices]
    if result.message_id is None and result.text:
        notes.append(f"ℹ️ {result.text}")
    if notes:
        state.setdefault("chat_notes", {})[result.user_message_id] = tuple(notes)


def show_transcript(until_id: int | None, busy: bool) -> None:
    """The stored conversation (up to ``until_id`` while a message is being answered), its
    status and, once nothing waits for an answer (``busy``), the way to ask for a person."""
    try:
        _draw_transcript(until_id, busy)
    except StorageError:
        st.warning(AWAY, icon="⏳")


def _draw_transcript(until_id: int | None, busy: bool) -> None:
    rows = list_messages(services.db, conversation_id, actor=me) if conversation_id else []
    if until_id is not None:
        rows = [m for m in rows if (m.id or 0) <= until_id]
    links = traced_turns(rows) if sees_traces() else set()
    files = (
        list_attachments(services.db, services.kb, conversation_id, actor=me)
        if conversation_id
        else []
    )
    notes = _attachment_notes(rows, files)
    kept = state.get("chat_notes", {})
    votes = (
        customer_votes(services.db, conversation_id, user_id, actor=me) if conversation_id else {}
    )
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
    if not conversation_id or busy:
        return
    show_consent_card(services.engine, conversation_id, me)
    status = get_conversation(services.db, conversation_id, actor=me).status
    if status in WITH_A_HUMAN:
        st.success(WITH_A_HUMAN[status], icon="🙋")
    elif st.button("Talk to a human", icon="🙋"):
        try:
            with st.spinner("Asking an agent to join…"):
                services.desk.escalate(conversation_id, user_id, actor=me)
        except ObservatoryError as exc:
            st.error(str(exc), icon="⚠️")
        else:
            st.rerun()


def follow_turns(was_busy: bool, said_away: bool) -> None:
    """Show the answer being streamed and the messages waiting, until all are answered.

    Every pass draws something, so a message sent meanwhile starts a new run at once (its
    callback queues it) instead of waiting behind this one. ``was_busy``: the transcript above
    was drawn while a message waited; if it was answered since, the run starts again to show it.
    ``said_away``: the page already says the database is away (one sentence is enough).
    """
    snapshot = turns.snapshot()
    answering = snapshot.live.message if snapshot.live else None
    area, heartbeat = st.empty(), st.empty()
    drawn = None
    while snapshot.pending_in(conversation_id):
        if snapshot.version != drawn:
            with area.container():
                if snapshot.held and not said_away:
                    st.warning(snapshot.held, icon="⏳")
                if snapshot.live and snapshot.live.message.conversation_id == conversation_id:
                    show_live_turn(snapshot.live)
                show_waiting(
                    tuple(m for m in snapshot.waiting if m.conversation_id == conversation_id)
                )
            drawn = snapshot.version
        else:
            heartbeat.empty()
        snapshot = turns.wait(snapshot.version, FOLLOW_S)
        if (snapshot.live.message if snapshot.live else None) is not answering:
            st.rerun()  # a turn ended or began: draw the stored transcript again
    if drawn is not None or was_busy:
        st.rerun()


for finished in turns.take_finished():
    _keep_notes(finished)
pending = turns.snapshot()
busy = pending.pending_in(conversation_id)
live = (
    pending.live
    if pending.live and pending.live.message.conversation_id == conversation_id
    else None
)
until_id = live.after_id if live else None
status = (
    _read(lambda: get_conversation(services.db, conversation_id, actor=me).status, None)
    if conversation_id
    else None
)
# While a person has the conversation, their replies arrive without the customer doing anything.
refresh = REFRESH_S if status in WITH_A_HUMAN and not busy else None
st.fragment(show_transcript, run_every=refresh)(until_id, busy)

if too_long := state.pop("chat_too_long", None):
    st.error(
        f"That message is {too_long:,} characters; a message can be up to {max_chars:,}. "
        "Shorten it (it is still in the box) or attach it as a file instead.",
        icon="⚠️",
    )
if failed := state.pop("chat_failed", None):
    st.error(failed, icon="⚠️")
away = bool(state.pop("chat_db_away", False) or pending.held)
if away:
    st.warning(AWAY, icon="⏳")
st.chat_input(
    "Ask about an order, a return, an appointment…",
    accept_file=True,
    file_type=["pdf", "txt", "md"],
    key="chat_prompt",
    on_submit=_queue_message,
)
follow_turns(busy, away)
