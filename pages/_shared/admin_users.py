"""The Admin page's users and roles: everyone with their role and state, invite someone,
change a role, deactivate or reactivate an account (each audited by ``core.users``)."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from core.db.models import Role, User
from core.settings import AuthSettings, UnknownEmail
from core.users import (
    UserChangeRefused,
    change_role,
    deactivate_user,
    invite_user,
    list_people,
    reactivate_user,
)
from pages._shared.roles import ROLE_LABELS

_FLASH = "admin_users_flash"


def users_section(db: Engine, auth: AuthSettings, actor: str, *, hosted: bool) -> None:
    """Users and roles, managed as ``actor`` (the signed-in admin's e-mail)."""
    st.subheader("Users and roles")
    st.caption(
        "Who may sign in, as what. An unknown e-mail "
        + (
            "becomes a customer at first sign-in"
            if auth.unknown_email is UnknownEmail.CUSTOMER
            else "is refused until invited"
        )
        + " (AUTH__UNKNOWN_EMAIL); e-mails in AUTH__ADMIN_EMAILS are always admins."
        + ("" if hosted else " Sign-in is off (demo mode): these roles apply once it is on.")
    )
    if message := st.session_state.pop(_FLASH, None):
        kind, text = message
        (st.success if kind == "success" else st.error)(text)
    people = list_people(db)
    st.dataframe(_people_table(people, auth), hide_index=True, width="stretch")
    invite, change = st.columns(2)
    with invite, st.form("admin_invite", clear_on_submit=True):
        st.markdown("**Invite someone**")
        email = st.text_input("E-mail", placeholder="sam@example.com")
        role = Role(
            st.selectbox("Role", list(Role), format_func=_label, key="admin_invite_role")
            or Role.CUSTOMER
        )
        if st.form_submit_button("Invite"):
            _apply(lambda: invite_user(db, actor, email, role), f"{email} invited.")
    with change:
        st.markdown("**Change someone's account**")
        by_email = {user.email: user for user in people}
        chosen = st.selectbox(
            "Person",
            list(by_email),
            index=None,
            placeholder="Choose by e-mail",
            format_func=lambda e: f"{by_email[e].name} ({e})",
            key="admin_user_chosen",
        )
        new_role = Role(
            st.selectbox("New role", list(Role), format_func=_label, key="admin_user_new_role")
            or Role.CUSTOMER
        )
        role_button, state_button = st.columns(2)
        if chosen is None:
            return
        if role_button.button("Change role", key="admin_user_change_role"):
            _apply(
                lambda: change_role(db, actor, chosen, new_role, auth),
                f"{chosen} is now {_label(new_role).lower()}.",
            )
        if by_email[chosen].active:
            if state_button.button("Deactivate", key="admin_user_deactivate"):
                _apply(
                    lambda: deactivate_user(db, actor, chosen, auth),
                    f"{chosen} is deactivated: signing in is refused from their next click.",
                )
        elif state_button.button("Reactivate", key="admin_user_reactivate"):
            _apply(lambda: reactivate_user(db, actor, chosen, auth), f"{chosen} may sign in again.")


def _apply(change: Callable[[], object], done: str) -> None:
    try:
        change()
    except UserChangeRefused as exc:
        st.session_state[_FLASH] = ("error", str(exc))
    else:
        st.session_state[_FLASH] = ("success", done)
    st.rerun()


def _people_table(people: list[User], auth: AuthSettings) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "name": [u.name for u in people],
            "e-mail": [u.email for u in people],
            "role": [
                _label(u.role) + (" (AUTH__ADMIN_EMAILS)" if u.email in auth.admin_emails else "")
                for u in people
            ],
            "state": ["active" if u.active else "deactivated" for u in people],
            "last sign-in": [
                u.last_sign_in_at.strftime("%Y-%m-%d %H:%M UTC") if u.last_sign_in_at else "never"
                for u in people
            ],
        }
    )


def _label(role: str) -> str:
    return ROLE_LABELS[str(role)]
