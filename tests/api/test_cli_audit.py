"""A client made or revoked from the command line is in the app's audit log, by the shell user."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from core import settings as settings_module
from core.api import main
from core.audit import AuditAction, list_audit
from core.db import create_db_engine


def test_command_line_client_changes_are_audited(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in settings_module.ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(settings_module, "SECRETS_FILE", tmp_path / "none.toml")
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))

    assert main(["clients", "create", "Billing", "--scopes", "costs:read"]) == 0
    client_id = capsys.readouterr().out.split("client_id:")[1].split()[0]
    assert main(["clients", "revoke", client_id]) == 0

    db = create_db_engine(f"sqlite:///{tmp_path / 'data' / 'app.db'}")
    events = list_audit(db, datetime(2000, 1, 1, tzinfo=UTC))
    assert [(e.action, e.target) for e in events] == [
        (AuditAction.API_CLIENT_REVOKED, client_id),
        (AuditAction.API_CLIENT_CREATED, client_id),
    ]
    assert all(e.actor.startswith("command line (") for e in events)
    assert events[1].detail == "Billing: costs:read, standard"
