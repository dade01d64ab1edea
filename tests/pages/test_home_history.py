"""Home on a first start: the demo history is made in the background with a progress bar, and
Home says what it holds."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pages._shared.resources import get_history
from tests.pages.conftest import APP

APP_TIMEOUT_S = 300


def test_first_start_makes_the_history_in_the_background_with_progress(
    app_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APP__HISTORY_DAYS", "2")
    at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT_S).run()

    assert not at.exception
    bars = at.get("progress")
    assert bars and "Making the demo history in the background" in bars[0].proto.text
    history = get_history()
    while history.progress.done + history.progress.already < 3 and not history.progress.finished:
        history.join(0.5)
    history.stop()
    assert history.join(60)

    at.run()
    assert not at.get("progress")
    captions = " ".join(c.value for c in at.caption)
    assert "The demo history: 2 days of conversations" in captions
    assert "OpenAI outage" in captions
    assert history.progress.done + history.progress.already >= 3
    assert history.progress.error is None
