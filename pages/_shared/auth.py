"""Sign-in for the hosted app: Streamlit's ``st.login`` (OpenID Connect) when ``[auth]`` is in
the secrets; otherwise the app is the zero-config demo with its role switch.

``core.users`` decides what a signed-in e-mail becomes; this module only asks Streamlit who
signed in, tells ``core`` so, and keeps the answer in the session for ``roles``.
"""

from __future__ import annotations

import functools
from pathlib import Path

import streamlit as st

from core.db.models import User
from pages._shared.navigation import PAGES
from pages._shared.roles import ROLE_LABELS, SIGNED_IN_KEY, current_role, not_for_this_role

_RECORDED_KEY = "signed_in_recorded"
"""The e-mail whose sign-in this session has recorded (one audit event per session)."""


def auth_configured() -> bool:
    """Whether the app is hosted with sign-in: an ``[auth]`` section in Streamlit's secrets."""
    try:
        return "auth" in st.secrets
    except FileNotFoundError:  # no secrets file at all
        return False


def signed_in_person() -> User:
    """The signed-in person, checked again on this page view; otherwise a sign-in screen (or
    the sentence saying why they may not come in) and the run stops."""
    if not st.user.is_logged_in:
        st.session_state.pop(SIGNED_IN_KEY, None)
        st.navigation([st.Page(_sign_in_screen, title="Sign in", default=True)]).run()
        st.stop()
    with st.spinner("Starting Support Observatory…"):
        # Resolved once sign-in is known: providers, Qdrant and the seed take seconds to load.
        user = _resolve(str(st.user.get("email") or ""), st.user.get("name"), in_page=False)
    st.session_state[SIGNED_IN_KEY] = user
    return user


def check_page_role(page_file: str) -> None:
    """The first call of every page (``check_page_role(__file__)``): unless the person using
    the app may see this page, say so in one sentence and stop before anything of it is drawn.

    The frame (``ui.py``) only lists the role's pages, but a page can run without the frame:
    until the first ``st.navigation`` call of a process, Streamlit still serves the files of
    ``pages/`` by their address (its first multipage mode). So the page itself asks who is
    signed in, and refuses."""
    entry = {Path(e.path).name: e for e in PAGES}[Path(page_file).name]
    if auth_configured():
        if not st.user.is_logged_in:
            st.session_state.pop(SIGNED_IN_KEY, None)
            _sign_in_screen()
            st.stop()
        st.session_state[SIGNED_IN_KEY] = _resolve(
            str(st.user.get("email") or ""), st.user.get("name"), in_page=True
        )
    if current_role() not in entry.roles:
        not_for_this_role(entry)
        st.stop()


def account_sidebar(user: User) -> None:
    """Who is signed in, as what, and the way out."""
    with st.sidebar:
        st.caption(f"Signed in as **{user.name}** ({user.email}) · {ROLE_LABELS[user.role.value]}")
        st.button("Sign out", icon=":material/logout:", on_click=st.logout)


def demo_notice() -> None:
    st.sidebar.caption("demo mode: anyone can switch roles")


def _resolve(email: str, name: object, *, in_page: bool) -> User:
    """The signed-in person (their sign-in recorded once per session); a refusal is shown
    in its own page (``in_page``: in the page already running) and the run stops."""
    from core.users import SignInRefused, sign_in, signed_in_user
    from pages._shared.resources import get_db_engine, get_settings
    from pages._shared.startup import bootstrap

    bootstrap()

    auth = get_settings().auth
    db = get_db_engine()
    try:
        if st.session_state.get(_RECORDED_KEY) == email:
            return signed_in_user(db, email, auth)
        st.session_state[_RECORDED_KEY] = email
        return sign_in(db, email, str(name) if name else None, auth)
    except SignInRefused as exc:
        st.session_state.pop(SIGNED_IN_KEY, None)
        refusal = functools.partial(_refused, str(exc))
        if in_page:
            refusal()
        else:
            page = st.Page(refusal, title="Sign in", url_path="refused", default=True)
            st.navigation([page]).run()
        st.stop()


def _sign_in_screen() -> None:
    st.set_page_config(page_title="Support Observatory", page_icon="🔭", layout="centered")
    st.title("🔭 Support Observatory")
    st.write("Northwind Outfitters support. Sign in to chat with support or, for staff, to work.")
    if st.button("Sign in", type="primary", icon=":material/login:"):
        st.login()


def _refused(reason: str) -> None:
    st.set_page_config(page_title="Support Observatory", page_icon="🔭", layout="centered")
    st.title("🔭 Support Observatory")
    st.error(reason, icon=":material/block:")
    st.button("Sign out", icon=":material/logout:", on_click=st.logout)
