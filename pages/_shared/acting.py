"""Who the page acts for, as ``core`` wants it (``core.actors.Actor``): the customer picked in
the chat, or the staff member signed in (or, in the demo, the one the sidebar acts as)."""

from __future__ import annotations

import streamlit as st

from core.actors import Actor, ActorRole
from pages._shared.navigation import CUSTOMER
from pages._shared.roles import STAFF_KEY, current_role, signed_in


def staff_actor() -> Actor | None:
    """The signed-in staff member (hosted), or the one the demo's sidebar picked; ``None`` for a
    customer or when no staff member is picked yet."""
    role = current_role()
    person = signed_in()
    if person is not None:
        return None if role == CUSTOMER else Actor.for_user(person)
    chosen = st.session_state.get(STAFF_KEY)
    if role == CUSTOMER or not isinstance(chosen, int):
        return None
    return Actor(ActorRole(role), chosen)
