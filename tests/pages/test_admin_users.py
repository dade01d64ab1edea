"""The Admin page's users and roles and its audit log: what an admin does there is done,
said in a sentence, and listed in the audit log under the admin's name."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.db.models import Role
from core.users import find_user
from pages._shared.resources import get_db_engine
from seed.people import STAFF
from tests.pages.conftest import APP

APP_TIMEOUT_S = 180
SAM = next(p for p in STAFF if p.role is Role.ADMIN)
NEWCOMER = "zoe.new@company.example"
"""Named after Sam Chen, so that once an admin the demo's staff picker still acts as Sam."""


def _admin_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT_S)
    at.session_state["role"] = "admin"
    at.run().switch_page("pages/admin.py").run()
    assert not at.exception, at.exception
    return at


def _labelled(elements: object, label: str) -> object:
    return next(e for e in elements if e.label == label)  # type: ignore[attr-defined]


def _audit(at: AppTest) -> list[tuple[str, str, str]]:
    log = next(d.value for d in at.dataframe if "who" in d.value.columns)
    return list(zip(log["who"], log["action"], log["target"], strict=True))


def test_invite_change_role_and_deactivate_are_done_and_audited(seeded_env: Path) -> None:
    at = _admin_page()

    _labelled(at.text_input, "E-mail").set_value(NEWCOMER)
    at.selectbox(key="admin_invite_role").set_value("agent")
    _labelled(at.button, "Invite").click().run()
    assert [s.value for s in at.success] == [f"{NEWCOMER} invited."]

    at.selectbox(key="admin_user_chosen").set_value(NEWCOMER)
    at.selectbox(key="admin_user_new_role").set_value("admin").run()
    at.button(key="admin_user_change_role").click().run()
    assert [s.value for s in at.success] == [f"{NEWCOMER} is now admin."]

    at.selectbox(key="admin_user_chosen").set_value(NEWCOMER).run()
    at.button(key="admin_user_deactivate").click().run()

    assert not at.exception, at.exception
    assert [s.value for s in at.success] == [
        f"{NEWCOMER} is deactivated: signing in is refused from their next click."
    ]
    user = find_user(get_db_engine(), NEWCOMER)
    assert user is not None and user.role is Role.ADMIN and not user.active
    assert _audit(at)[:4] == [
        (SAM.email, "user_deactivated", NEWCOMER),
        (SAM.email, "role_changed", NEWCOMER),
        (SAM.email, "user_invited", NEWCOMER),
        (SAM.email, "pii_audit_viewed", "PII redactions"),
    ]


def test_an_admin_cannot_deactivate_themselves(seeded_env: Path) -> None:
    at = _admin_page()

    at.selectbox(key="admin_user_chosen").set_value(SAM.email).run()
    at.button(key="admin_user_deactivate").click().run()

    assert [e.value for e in at.error] == ["You cannot deactivate yourself: another admin can."]
    user = find_user(get_db_engine(), SAM.email)
    assert user is not None and user.active


def test_api_clients_are_audited_and_the_log_filters_and_downloads(seeded_env: Path) -> None:
    at = _admin_page()
    api_client_name = [t for t in at.text_input if t.label == "Name"][-1]  # after experiments'
    api_client_name.set_value("Billing dashboard")
    _labelled(at.button, "Create client").click().run()
    assert not at.exception, at.exception
    assert any(s.value.startswith("Client **Billing dashboard** made.") for s in at.success)

    at.selectbox(key="admin_audit_action").set_value("api_client_created").run()

    rows = _audit(at)
    assert [(who, action) for who, action, _ in rows] == [(SAM.email, "api_client_created")]
    assert rows[0][2].startswith("oc_")
    download = at.get("download_button")
    assert len(download) == 1 and download[0].proto.label == "Download this entry (CSV)"


def test_experiment_changes_are_audited(seeded_env: Path) -> None:
    at = _admin_page()
    at.text_input(key="admin_experiment_name").set_value("Cheaper answers")
    _labelled(at.button, "Create experiment").click().run()
    at.button(key="admin_start_Cheaper answers").click().run()

    assert not at.exception, at.exception
    assert [(who, action, target) for who, action, target in _audit(at)][:2] == [
        (SAM.email, "experiment_started", "Cheaper answers"),
        (SAM.email, "experiment_created", "Cheaper answers"),
    ]
