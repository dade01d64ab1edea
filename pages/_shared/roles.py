"""Who is using the app decides which pages the navigation lists and which page may render.

Hosted with sign-in (``pages._shared.auth``), the role is the signed-in person's, kept in the
session by the server on every page view. Without sign-in (the demo), the sidebar picks a role
(customer, agent, admin) and, for staff, which staff member. Pages outside the role are not in
the navigation, and each page refuses to render for a role outside it
(``pages._shared.auth.check_page_role``).
``role_switch`` imports nothing slow (``ui.py`` draws the navigation with it before the
first-start bootstrap); the database layer is imported by the functions that need it.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from pages._shared.navigation import (
    ADMIN,
    AGENT,
    CUSTOMER,
    PAGES,
    STAFF,
    TRACES_PAGE,
    PageEntry,
    can_open,
)

if TYPE_CHECKING:
    from core.db.models import User

ROLE_KEY = "role"
ROLE_WIDGET_KEY = "role_picker"
STAFF_KEY = "staff_user_id"
PENDING_TRACE_KEY = "pending_trace"
SIGNED_IN_KEY = "signed_in_user"
"""The signed-in ``User`` (hosted mode only), set by the server on every page view."""
ROLE_LABELS = {CUSTOMER: "Customer", AGENT: "Support agent", ADMIN: "Admin"}


def signed_in() -> User | None:
    """The signed-in person when the app is hosted with sign-in; ``None`` in the demo."""
    return st.session_state.get(SIGNED_IN_KEY)


def current_role() -> str:
    """The signed-in person's role, or in the demo the role the sidebar picked (a
    ``core.db.models.Role`` value; customer by default)."""
    if (person := signed_in()) is not None:
        return person.role.value
    role = str(st.session_state.get(ROLE_KEY, CUSTOMER))
    return role if role in ROLE_LABELS else CUSTOMER


def role_switch() -> None:
    """The sidebar's role picker; a click sets ``current_role()`` before the next run starts,
    so ``app.py`` builds the navigation from it before drawing the picker."""
    st.session_state[ROLE_WIDGET_KEY] = current_role()
    st.sidebar.radio(
        "Use the demo as",
        list(ROLE_LABELS),
        format_func=ROLE_LABELS.__getitem__,
        key=ROLE_WIDGET_KEY,
        on_change=_role_picked,
    )


def _role_picked() -> None:
    st.session_state[ROLE_KEY] = st.session_state[ROLE_WIDGET_KEY]


def staff_picker(role: str) -> None:
    """For agents and admins, which staff member the demo acts as."""
    if role == CUSTOMER:
        return
    staff = {user.id: user for user in _staff(role)}
    if staff:
        st.sidebar.selectbox(
            "Staff member",
            list(staff),
            format_func=lambda key: staff[key].name,
            key=STAFF_KEY,
        )


def current_user() -> User:
    """The signed-in staff member, or in the demo the one the sidebar picked; stops the page
    for customers or when there is none."""
    role = current_role()
    person = signed_in()
    if role == CUSTOMER:
        st.info(
            "This page is for support staff, and you are signed in as a customer."
            if person is not None
            else "This page is for support staff: switch the sidebar to Support agent or Admin."
        )
        st.stop()
    if person is not None:
        return person
    staff = {user.id: user for user in _staff(role)}
    chosen = st.session_state.get(STAFF_KEY)
    if chosen in staff:
        return staff[chosen]
    if staff:
        return next(iter(staff.values()))
    st.warning(f"There is no {role} in the demo data; load it with `python -m seed`.")
    st.stop()


def stand_ins(role: str) -> list[st.Page]:
    """Hidden pages at the addresses of the pages ``role`` may not open: a link to one (a trace
    link, ``/traces?trace=<id>``, in a new session) says who the page is for, instead of
    Streamlit's "Page not found". A stand-in has its page's address, so once the visitor has a
    role that may open it, the same address runs the page itself."""
    return [
        st.Page(
            functools.partial(not_for_this_role, entry),
            title=entry.title,
            icon=entry.icon,
            url_path=Path(entry.path).stem,
            visibility="hidden",
        )
        for entry in PAGES
        if role not in entry.roles
    ]


def not_for_this_role(entry: PageEntry) -> None:
    """One sentence: whom the page is for, and (in the demo) how to open it."""
    allowed = [label for role, label in ROLE_LABELS.items() if role in entry.roles]
    everyone = " and ".join(f"{label.lower()}s" for label in allowed)
    who = "support staff" if entry.roles == STAFF else everyone
    opens = "a trace on the Traces page" if PENDING_TRACE_KEY in st.session_state else "a page"
    person = signed_in()
    if person is not None:
        role = ROLE_LABELS[person.role.value].lower()
        article = "an" if role[0] in "aeiou" else "a"
        message = (
            f"This link opens {opens}, which is for {who}; you are signed in as {article} {role}."
        )
    else:
        switch_to = " or ".join(allowed)
        message = (
            f"This link opens {opens}, which is for {who}: switch the sidebar to {switch_to} "
            "and it opens."
        )
    st.info(message, icon=":material/lock:")


def follow_trace_link(role: str) -> None:
    """Remember the trace a link (``/traces?trace=<id>``) asks for while the role cannot open
    Traces (its stand-in says why), and open it once the role switch gives a staff role."""
    if can_open(role, TRACES_PAGE):
        if pending := st.session_state.pop(PENDING_TRACE_KEY, None):
            st.switch_page(TRACES_PAGE, query_params={"trace": pending})
        return
    if link := st.query_params.get("trace"):
        st.session_state[PENDING_TRACE_KEY] = link


def sees_traces() -> bool:
    """Whether the current role may open the Traces page (and so see links to it)."""
    return can_open(current_role(), TRACES_PAGE)


def _staff(role: str) -> list[User]:
    from core.db.models import Role
    from core.directory import list_users
    from pages._shared.resources import get_db_engine

    return list_users(get_db_engine(), Role(role))
