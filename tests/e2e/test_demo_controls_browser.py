"""Demo controls in a real browser: as Admin, arm a rate limit on OpenAI for two calls, see it
armed with what is left, clear it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

ARMED = "Armed rate_limit · openai/any model · next 2 calls (retry after 1 s)."
NONE_ARMED = "No fault is armed: every call goes through as usual."


def test_arm_a_rate_limit_on_openai_see_it_armed_and_clear_it(page: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    expect(page.get_by_text("What the demo contains")).to_be_visible(timeout=300_000)
    page.get_by_role("radiogroup").get_by_text("Admin", exact=True).click()
    page.get_by_role("link", name="Admin", exact=True).click()
    expect(page.get_by_role("heading", name="Demo controls")).to_be_visible()
    expect(page.get_by_text(NONE_ARMED)).to_be_visible()

    pickers = page.locator('[data-testid="stSelectbox"]')
    # The first "Provider" picker on the page is the demo controls' (Prices has one lower down).
    pickers.filter(has=page.get_by_text("Provider", exact=True)).first.click()
    page.keyboard.type("openai")
    page.keyboard.press("Enter")
    expect(page.get_by_label("Calls (N)")).to_be_visible()
    calls = page.get_by_label("Calls (N)")
    calls.fill("2")
    calls.press("Enter")
    page.get_by_role("button", name="Arm", exact=True).click()

    expect(page.get_by_text(ARMED)).to_be_visible()
    expect(page.get_by_text("2 calls left")).to_be_visible()
    expect(page.get_by_text("Rate limit (429 with retry-after)")).to_be_visible()
    page.get_by_role("heading", name="Demo controls").scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "demo-controls-armed.png"))

    page.get_by_role("button", name="Clear", exact=True).click()
    expect(
        page.get_by_text("Cleared rate_limit · openai/any model · next 2 calls.")
    ).to_be_visible()
    expect(page.get_by_text(NONE_ARMED)).to_be_visible()
    expect(page.get_by_text("2 calls left")).to_have_count(0)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
