"""Who the page acts for, as ``core`` wants it (``core.actors.Actor``): the customer picked in
the chat, or the staff member the sidebar acts as."""

from __future__ import annotations

import streamlit as st

from core.actors import Actor, ActorRole
from pages._shared.navigation import CUSTOMER
from pages._shared.roles import STAFF_KEY, current_role


def staff_actor() -> Actor | None:
    """The staff member the sidebar picked, or ``None`` when the role is customer or no staff
    member is picked yet."""
    role = current_role()
    chosen = st.session_state.get(STAFF_KEY)
    if role == CUSTOMER or not isinstance(chosen, int):
        return None
    return Actor(ActorRole(role), chosen)
