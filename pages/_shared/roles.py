"""The demo's role switch: who is using the app decides which pages the navigation lists.

Until sign-in exists, the sidebar picks a role (customer, agent, admin) and, for staff, which
staff member; pages outside the role are not in the navigation at all.
"""

from __future__ import annotations

import streamlit as st

from core.db.models import Role, User
from core.directory import list_users
from pages._shared.resources import get_db_engine

ROLE_KEY = "role"
ROLE_WIDGET_KEY = "role_picker"
STAFF_KEY = "staff_user_id"
ROLE_LABELS = {Role.CUSTOMER: "Customer", Role.AGENT: "Support agent", Role.ADMIN: "Admin"}


def role_switch() -> Role:
    """The sidebar's role picker; returns the chosen role (customer by default)."""
    with st.sidebar:
        roles = list(ROLE_LABELS)
        role = st.radio(
            "Use the demo as",
            roles,
            index=roles.index(Role(st.session_state.get(ROLE_KEY, Role.CUSTOMER))),
            format_func=ROLE_LABELS.__getitem__,
            key=ROLE_WIDGET_KEY,
            horizontal=True,
        )
        st.session_state[ROLE_KEY] = role
        if role is not Role.CUSTOMER:
            staff = {user.id: user for user in list_users(get_db_engine(), role)}
            if staff:
                st.selectbox(
                    "Staff member",
                    list(staff),
                    format_func=lambda key: staff[key].name,
                    key=STAFF_KEY,
                )
    return Role(role)


def current_user() -> User:
    """The staff member the sidebar picked; stops the page for customers or when there is none."""
    role = Role(st.session_state.get(ROLE_KEY, Role.CUSTOMER))
    if role is Role.CUSTOMER:
        st.info("This page is for support staff: switch the sidebar to Support agent or Admin.")
        st.stop()
    staff = {user.id: user for user in list_users(get_db_engine(), role)}
    chosen = st.session_state.get(STAFF_KEY)
    if chosen in staff:
        return staff[chosen]
    if staff:
        return next(iter(staff.values()))
    st.warning(f"There is no {role.value} in the demo data; load it with `python -m seed`.")
    st.stop()
