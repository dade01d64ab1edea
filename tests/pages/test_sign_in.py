"""Hosted with sign-in (``[auth]`` in the secrets): nothing before signing in, the signed-in
person's role decides the pages, no role switch and no customer picker; deactivated or unknown
people are refused in a sentence. ``AppTest`` stands in for the OpenID provider with
``at.user`` (the browser test signs in for real)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from core.audit import AuditAction, list_audit
from core.db.models import Role
from core.settings import AuthSettings
from core.users import deactivate_user
from pages._shared.navigation import PAGES
from pages._shared.resources import get_db_engine
from seed.people import STAFF, build_customers
from tests.pages.conftest import APP

APP_TIMEOUT_S = 180
AUTH_SECRETS: dict[str, Any] = {
    "auth": {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "a-test-cookie-secret-of-32-chars!",
        "client_id": "support-observatory",
        "client_secret": "test-secret",
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
    }
}
CUSTOMER = build_customers()[0]
AGENT = next(p for p in STAFF if p.role is Role.AGENT)
ADMIN = next(p for p in STAFF if p.role is Role.ADMIN)


def hosted(email: str | None, name: str = "") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT_S)
    at.secrets.update(AUTH_SECRETS)
    sign_in_as(at, email, name)
    return at


def sign_in_as(at: AppTest, email: str | None, name: str = "") -> None:
    at.user = (
        {"is_logged_in": True, "email": email, "name": name} if email else {"is_logged_in": False}
    )


def opens(at: AppTest, path: str) -> bool:
    """Whether ``path`` is one of the navigation's pages (a page outside it is not registered)."""
    try:
        at.switch_page(path)
    except ValueError:
        return False
    return True


def test_a_visitor_sees_only_the_sign_in_screen(app_env: Path) -> None:
    at = hosted(None).run()

    assert not at.exception, at.exception
    assert [b.label for b in at.button] == ["Sign in"]
    assert [t.value for t in at.title] == ["🔭 Support Observatory"]
    assert not at.radio and not at.selectbox
    assert not any(opens(at, entry.path) for entry in PAGES)


@pytest.mark.parametrize(
    ("person", "pages"),
    [
        (CUSTOMER, ["Home", "Customer chat"]),
        (AGENT, ["Home", "Scenarios", "Agent view", "Knowledge base", "Traces", "Analytics"]),
        (ADMIN, [entry.title for entry in PAGES]),
    ],
    ids=["customer", "agent", "admin"],
)
def test_each_role_gets_its_own_pages_and_no_role_switch(
    seeded_env: Path, person: Any, pages: list[str]
) -> None:
    at = hosted(person.email, person.name).run()

    assert not at.exception, at.exception
    assert not [r for r in at.radio if r.key == "role_picker"]
    sidebar = " ".join(c.value for c in at.sidebar.caption)
    assert f"Signed in as **{person.name}** ({person.email})" in sidebar
    assert "demo mode" not in sidebar
    assert [b.label for b in at.sidebar.button] == ["Sign out"]
    for entry in PAGES:
        at = hosted(person.email, person.name).run()
        if entry.title not in pages:
            assert not opens(at, entry.path), entry.path
            continue
        assert opens(at, entry.path), entry.path
        at.run()
        assert not at.exception, (entry.path, at.exception)
        assert not at.error, (entry.path, [e.value for e in at.error])
        assert at.title, f"{entry.path} drew nothing"


def test_a_signed_in_customer_chats_as_themselves_with_no_picker(seeded_env: Path) -> None:
    at = hosted(CUSTOMER.email, CUSTOMER.name).run()
    at.switch_page("pages/customer_chat.py").run()

    assert not at.exception, at.exception
    assert not [s for s in at.sidebar.selectbox if s.label == "Customer"]
    assert f"chatting as {CUSTOMER.name}" in " ".join(c.value for c in at.caption)
    at.chat_input[0].set_value("Where is my order?").run()
    assert not at.exception, at.exception
    assert at.session_state["chat_user_id"] == at.session_state["signed_in_user"].id


def test_the_first_admin_comes_from_the_setting(
    seeded_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTH__ADMIN_EMAILS", "new.boss@company.example")
    at = hosted("new.boss@company.example", "New Boss").run()

    assert not at.exception, at.exception
    assert opens(at, "pages/admin.py")
    at.run()
    assert not at.exception, at.exception
    assert "Users and roles" in [s.value for s in at.subheader]


def test_a_deactivated_person_is_refused_at_their_next_click(seeded_env: Path) -> None:
    at = hosted(AGENT.email, AGENT.name).run()
    assert opens(at, "pages/agent_view.py")

    deactivate_user(get_db_engine(), ADMIN.email, AGENT.email, AuthSettings())
    at.run()

    assert [e.value for e in at.error] == [
        f"The account {AGENT.email} has been deactivated; ask an admin of this app if you "
        "need it again."
    ]
    assert [b.label for b in at.button] == ["Sign out"]
    assert not any(t.value == "Agent view" for t in at.title)


def test_an_unknown_email_is_refused_when_sign_in_is_by_invitation(
    app_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTH__UNKNOWN_EMAIL", "refuse")
    at = hosted("stranger@example.com").run()

    assert [e.value for e in at.error] == [
        "stranger@example.com has no account here: ask an admin of this app to invite you."
    ]


def test_a_sign_in_is_audited_once_per_session(seeded_env: Path) -> None:
    at = hosted(ADMIN.email, ADMIN.name).run()
    at.run()
    at.switch_page("pages/admin.py").run()

    assert not at.exception, at.exception
    events = list_audit(get_db_engine(), datetime(2000, 1, 1, tzinfo=UTC))
    assert [(e.actor, e.action) for e in events] == [
        (ADMIN.email, AuditAction.PII_AUDIT_VIEWED),
        (ADMIN.email, AuditAction.SIGN_IN),
    ]
    log = next(d.value for d in at.dataframe if "who" in d.value.columns)
    assert list(log["action"]) == ["pii_audit_viewed", "sign_in"]


def test_a_page_opened_after_signing_out_shows_the_sign_in_screen_only(seeded_env: Path) -> None:
    at = hosted(ADMIN.email, ADMIN.name).run()
    at.switch_page("pages/admin.py").run()
    assert "Users and roles" in [s.value for s in at.subheader]

    sign_in_as(at, None)
    at.run()

    assert not at.exception, at.exception
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.subheader and not at.dataframe
