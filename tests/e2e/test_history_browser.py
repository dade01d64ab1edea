"""A fresh start in a real browser: Home shows the demo history's progress from its first
minute, and Traces and the agent queue already tell its story (turns dated in the past days,
escalations, negative feedback) while the rest is made."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bench._agent_flow import pick_filter
from tests.e2e.conftest import offline_env, serve_app

pytestmark = pytest.mark.browser
WAIT_MS = 300_000


def test_a_fresh_start_shows_the_demo_history_on_traces_and_the_queue(
    open_tab: Callable[[str], Any], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    env = offline_env(tmp_path / "data", APP__HISTORY_DAYS="14", SIMULATOR_SPEED="0")
    with serve_app(env, tmp_path / "streamlit.log") as url:
        page = open_tab(url)
        expect(page.get_by_text("Making the demo history in the background")).to_be_visible(
            timeout=WAIT_MS
        )
        expect(page.get_by_text("(the rest)")).to_be_visible(timeout=WAIT_MS)
        expect(page.get_by_text("The demo history: 14 days of conversations")).to_be_visible()

        page.get_by_role("radiogroup").get_by_text("Support agent", exact=True).click()
        nav = page.get_by_test_id("stSidebarNav")
        nav.get_by_role("link", name="Traces", exact=True).click()
        expect(page.get_by_role("heading", name="Traces").first).to_be_visible(timeout=WAIT_MS)
        table = page.get_by_test_id("stDataFrame").first
        expect(table).to_contain_text("turn · ", timeout=WAIT_MS)

        nav.get_by_role("link", name="Agent view", exact=True).click()
        queue = page.get_by_test_id("stDataFrame").first
        pick_filter(page, "negative feedback")
        expect(queue).to_contain_text("negative feedback", timeout=WAIT_MS)
        pick_filter(page, "escalated")
        expect(queue).to_contain_text("escalated", timeout=WAIT_MS)
