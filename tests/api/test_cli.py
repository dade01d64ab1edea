"""``python -m core.api clients create|list|revoke``: what an admin sees."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import settings as settings_module
from core.api import main


@pytest.fixture
def data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in settings_module.ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(settings_module, "SECRETS_FILE", tmp_path / "none.toml")
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_create_list_and_revoke(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["clients", "create", "Billing", "--scopes", "costs:read", "--tier", "free"]) == 0
    made = capsys.readouterr().out
    client_id = made.split("client_id:")[1].split()[0]
    assert "client_secret:" in made and "shown only now" in made
    assert main(["clients", "list"]) == 0
    listed = capsys.readouterr().out
    assert client_id in listed and "active" in listed and "costs:read" in listed
    assert "client_secret" not in listed
    assert main(["clients", "revoke", client_id]) == 0
    assert "is revoked" in capsys.readouterr().out
    main(["clients", "list"])
    assert "revoked" in capsys.readouterr().out


def test_mistakes_are_one_sentence(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["clients", "revoke", "oc_nope"]) == 1
    assert "There is no API client 'oc_nope'" in capsys.readouterr().err
    assert main(["clients", "create", "x", "--scopes", "traces:write"]) == 1
    assert "not a scope" in capsys.readouterr().err
