from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.db.models import Role
from core.settings import load_settings
from pages._shared.resources import get_services
from tests.pages.conftest import APP

APP_TIMEOUT_S = 180


def _admin() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT_S).run()
    assert not at.exception, at.exception
    at.session_state["role"] = Role.ADMIN
    return at


def test_rate_limited_customer_and_redacted_card_show_up_for_the_admin(
    app_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One token a minute: however slow each run is, a burst and a few more sends run out.
    monkeypatch.setenv("ENGINE__RATE_LIMIT_PER_MINUTE", "1")
    at = _admin()
    at.switch_page("pages/customer_chat.py").run()
    burst = load_settings().engine.rate_limit_burst
    at.chat_input[0].set_value("My card is 4111 1111 1111 1111, can you refund it?").run()
    for number in range(burst + 2):
        at.chat_input[0].set_value(f"Are you there? ({number})").run()
    assert not at.exception, at.exception

    at.session_state["role"] = Role.ADMIN
    at.switch_page("pages/admin.py").run()

    assert not at.exception, at.exception
    tables = {tuple(d.value.columns): d.value for d in at.dataframe}
    providers = next(t for columns, t in tables.items() if "mode" in columns)
    hits = next(t for columns, t in tables.items() if "told to wait (s)" in columns)
    audit = next(t for columns, t in tables.items() if "kind" in columns)
    assert set(providers["mode"]) == {"Offline simulator"}
    assert len(hits) >= 1 and hits["told to wait (s)"].iloc[0] > 0
    assert "CARD" in set(audit["kind"])
    assert get_services().router.breaker_snapshots()
