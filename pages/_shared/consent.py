"""The card that asks the customer to confirm a change before it runs, and its read-only line."""

from __future__ import annotations

import streamlit as st

from core.actors import Actor
from core.conversation import ConversationEngine, PendingAction
from core.errors import ObservatoryError

_ERROR_KEY = "consent_error"


def show_consent_card(engine: ConversationEngine, conversation_id: str, actor: Actor) -> None:
    """The conversation's waiting change with its buttons (and times to pick), if any, for the
    customer ``actor``."""
    if error := st.session_state.pop(_ERROR_KEY, None):
        st.error(error, icon="⚠️")
    pending = engine.pending_action(conversation_id, actor=actor)
    if pending is None:
        return
    with st.container(border=True, key=f"consent_card_{pending.id}"):
        st.markdown(f"**{pending.question}**")
        picked = f"consent_choice_{pending.id}"
        if pending.choices:
            st.radio(
                "Time",
                range(len(pending.choices)),
                format_func=pending.choices.__getitem__,
                key=picked,
                label_visibility="collapsed",
            )
        yes, no = st.columns(2)
        yes.button(
            pending.confirm_label,
            type="primary",
            icon="✅",
            key=f"consent_yes_{pending.id}",
            on_click=_decide,
            args=(engine, pending, actor, True, picked),
            width="stretch",
        )
        no.button(
            pending.decline_label,
            key=f"consent_no_{pending.id}",
            on_click=_decide,
            args=(engine, pending, actor, False, picked),
            width="stretch",
        )


def describe_pending(pending: PendingAction | None) -> str | None:
    """One line for staff: what the customer is being asked to confirm."""
    if pending is None:
        return None
    return f"⏳ Waiting for the customer to confirm: {pending.question}"


def _decide(
    engine: ConversationEngine, pending: PendingAction, actor: Actor, confirm: bool, picked: str
) -> None:
    user_id = actor.user_id or 0
    try:
        with st.spinner("Working on it…" if confirm else "Letting the assistant know…"):
            if confirm:
                choice = int(st.session_state.get(picked) or 0)
                engine.confirm_action(pending.id, user_id, choice=choice, actor=actor)
            else:
                engine.decline_action(pending.id, user_id, actor=actor)
    except ObservatoryError as exc:
        st.session_state[_ERROR_KEY] = str(exc)
