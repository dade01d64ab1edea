"""The Analytics page refreshes by itself: a chat turn made in another tab shows in its
Requests tile within one refresh, with no click on the Analytics tab."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.browser

PLACEHOLDER = "Ask about an order, a return, an appointment…"
REFRESH_S = 10


def _requests(page: Any) -> str:
    tile = page.locator('[data-testid="stMetric"]').filter(has_text="Requests")
    return str(tile.locator('[data-testid="stMetricValue"]').inner_text()).strip()


def test_a_chat_turn_in_another_tab_shows_within_one_refresh(
    open_tab: Callable[[str], Any], app_url: str
) -> None:
    from playwright.sync_api import expect

    analytics = open_tab(app_url)
    expect(analytics.get_by_text("What the demo contains")).to_be_visible(timeout=300_000)
    analytics.get_by_text("Support agent", exact=True).click()
    analytics.get_by_role("link", name="Analytics").click()
    expect(analytics.get_by_text("Spend", exact=True)).to_be_visible(timeout=120_000)
    analytics.locator('[data-testid="stSelectbox"]').filter(has_text="Refresh").click()
    analytics.get_by_role("option", name=f"{REFRESH_S} s").click()
    expect(analytics).to_have_url(f"{app_url}/analytics?range=24+hours&group=model&refresh=10+s")
    analytics.wait_for_timeout(1_000)
    before = _requests(analytics)

    customer = open_tab(app_url)
    expect(customer.get_by_text("What the demo contains")).to_be_visible(timeout=300_000)
    customer.get_by_role("link", name="Customer chat").click()
    box = customer.get_by_placeholder(PLACEHOLDER)
    box.fill("Which sleeping bag do you recommend for winter camping?")
    box.press("Enter")
    expect(customer.get_by_text("(simulated)")).to_have_count(1, timeout=120_000)

    # One refresh, plus the few seconds a cached answer may be reused.
    tile = analytics.locator('[data-testid="stMetric"]').filter(has_text="Requests")
    expect(tile.locator('[data-testid="stMetricValue"]')).not_to_have_text(
        before, timeout=(2 * REFRESH_S + 10) * 1000
    )
    assert _requests(analytics) not in ("", "—")
