"""The Admin page's API clients section: create (secret shown once), list, revoke."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.api import client_registry
from core.db.models import Role
from core.settings import load_settings
from tests.pages.conftest import APP, app_env  # noqa: F401  (the fixture)


def test_admin_creates_sees_once_and_revokes_a_client(app_env: Path) -> None:  # noqa: F811
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.session_state["role"] = Role.ADMIN
    at.run()
    at.switch_page("pages/admin.py").run()
    assert not at.exception, at.exception
    assert any("No API client yet" in i.value for i in at.info)

    [name] = [t for t in at.text_input if t.placeholder == "Billing dashboard"]
    name.set_value("Billing dashboard")
    [scopes] = [m for m in at.multiselect if "traces:read" in m.options]
    scopes.set_value(["traces:read", "costs:read"])
    [create] = [b for b in at.button if b.label == "Create client"]
    create.click().run()
    assert not at.exception, at.exception

    secret_block = at.code[0].value
    assert "client_secret:" in secret_block
    secret = secret_block.split("client_secret:")[1].strip()
    clients = client_registry(load_settings()).list()
    assert [(c.name, c.scopes) for c in clients] == [
        ("Billing dashboard", ("traces:read", "costs:read"))
    ]
    assert client_registry(load_settings()).verify(clients[0].client_id, secret) is not None
    table = at.table[0].value
    assert list(table["state"]) == ["active"]

    [kept] = [b for b in at.button if b.label == "I have kept the secret"]
    kept.click().run()
    assert not at.code, "the secret is shown only once"

    [revoke] = [b for b in at.button if b.label == "Revoke"]
    revoke.click().run()
    assert not at.exception, at.exception
    assert client_registry(load_settings()).list()[0].revoked
    assert list(at.table[0].value["state"]) == ["revoked"]
