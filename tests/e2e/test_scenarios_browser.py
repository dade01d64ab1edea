"""The Scenarios page in a real browser: each scenario run by its button shows its insight and
no error, Run all finishes, and Analytics filtered by a scenario shows its runs. Screenshots
of each card and of the whole page are kept in the test's temporary folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench._browser import app_env, seed_folder
from core.scenarios import ScenarioKey
from tests.e2e.conftest import new_tab, serve_app

pytestmark = pytest.mark.browser

RUN_MS = 240_000
INSIGHTS = {
    ScenarioKey.ORDER_STATUS: "took the most of the answering prompt",
    ScenarioKey.DOCUMENT: "Embedding took",
    ScenarioKey.FALLBACK: "failed attempts on gpt-4o-mini",
    ScenarioKey.AB_TEST: "per conversation",
    ScenarioKey.FUNCTION_CALLING: "round trips to the model",
    ScenarioKey.ERROR_RECOVERY: "The first answer was rejected",
    ScenarioKey.CONTEXT_WINDOW: "pays for itself after",
    ScenarioKey.PII: "none of them reached the provider or the trace",
}


@pytest.fixture(scope="module")
def scenarios_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app at its own simulator speed on a folder ``python -m seed`` filled (no keys)."""
    data_dir = tmp_path_factory.mktemp("scenarios-e2e") / "data"
    seed_folder(data_dir)
    with serve_app(app_env(data_dir), data_dir / "streamlit.log") as url:
        yield url


def _as(tab: Any, role: str) -> None:
    from playwright.sync_api import expect

    expect(tab.get_by_text("Use the demo as")).to_be_visible(timeout=RUN_MS)
    tab.get_by_test_id("stSidebar").get_by_text(role, exact=True).click()


def _no_error(where: Any) -> None:
    from playwright.sync_api import expect

    expect(where.get_by_test_id("stException")).to_have_count(0)
    expect(where.get_by_test_id("stAlertContentError")).to_have_count(0)


def test_each_scenario_then_run_all_then_analytics_by_scenario(
    browser: Any, scenarios_app: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    tab = new_tab(browser, scenarios_app)
    _as(tab, "Admin")
    tab.get_by_test_id("stSidebarNav").get_by_role("link", name="Scenarios").click()
    expect(tab.get_by_role("heading", name="Scenarios").first).to_be_visible(timeout=RUN_MS)

    for key, words in INSIGHTS.items():
        card = tab.locator(f".st-key-scenarios_card_{key.value}")
        card.get_by_role("button", name="Run").click()
        insight = card.locator(f".st-key-scenarios_insight_{key.value}")
        expect(insight).to_contain_text(words, timeout=RUN_MS)
        expect(insight).to_contain_text("Insight.")
        expect(card.get_by_test_id("stVegaLiteChart")).to_be_visible()
        _no_error(card)
        card.screenshot(path=str(tmp_path / f"scenario-{key.value}.png"))

    tab.get_by_role("button", name="Run all").click()
    expect(tab.get_by_text("Ran all 8 scenarios in")).to_be_visible(timeout=4 * RUN_MS)
    for key, words in INSIGHTS.items():
        expect(tab.locator(f".st-key-scenarios_insight_{key.value}")).to_contain_text(words)
    _no_error(tab)
    tab.screenshot(path=str(tmp_path / "scenarios-run-all.png"), full_page=True)

    analytics = new_tab(browser, f"{scenarios_app}/analytics?scenario={ScenarioKey.FALLBACK}")
    _as(analytics, "Support agent")
    scenario = analytics.get_by_role("combobox", name="Scenario")
    expect(scenario).to_have_value(ScenarioKey.FALLBACK.value, timeout=RUN_MS)
    tile = analytics.locator('[data-testid="stMetric"]').filter(has_text="Requests")
    value = tile.locator('[data-testid="stMetricValue"]')
    expect(value).not_to_have_text("—", timeout=RUN_MS)
    expect(value).not_to_have_text("0")
    _no_error(analytics)
    analytics.screenshot(path=str(tmp_path / "analytics-by-scenario.png"), full_page=True)
    tab.context.close()
    analytics.context.close()
