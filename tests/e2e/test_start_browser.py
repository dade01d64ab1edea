"""The first page view of a fresh process: the role's navigation at once, the start-up progress
in the main area, never Streamlit's automatic list of the files in ``pages/``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import new_tab, offline_env, serve_app

pytestmark = pytest.mark.browser

AUTOMATIC_LIST = "admin|agent view|analytics|customer chat|home|knowledge base|traces"
PROGRESS = ("Starting Support Observatory", "First start: loading the demo data")
"""Either comes first: the spinner shows only if the start takes longer than its delay."""
RECORD_NAVIGATION = """
window.__nav = [];
new MutationObserver(() => {
  const nav = [...document.querySelectorAll('[data-testid="stSidebarNav"] a')]
    .map(a => a.innerText.replace(/\\s+/g, ' ').trim().toLowerCase()).join('|');
  const last = window.__nav[window.__nav.length - 1];
  if (!last || last[1] !== nav) window.__nav.push([performance.now(), nav]);
  const main = document.querySelector('[data-testid="stMain"]');
  if (window.__progressAt === undefined && main
      && (main.innerText.includes('Starting Support Observatory')
          || main.innerText.includes('First start: loading the demo data'))) {
    window.__progressAt = performance.now();
  }
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


@pytest.fixture
def fresh_url(tmp_path: Path) -> Iterator[str]:
    """A new ``streamlit run app.py`` process on an empty data folder (first start)."""
    env = offline_env(tmp_path / "data")
    with serve_app(env, tmp_path / "streamlit.log") as url:
        yield url


def test_a_fresh_start_shows_the_roles_pages_and_its_progress_never_the_file_list(
    browser: Any, fresh_url: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    page = new_tab(browser)
    page.add_init_script(RECORD_NAVIGATION)
    page.goto(fresh_url)

    main = page.locator('[data-testid="stMain"]')
    expect(main).to_contain_text(re.compile("|".join(PROGRESS)), timeout=120_000)
    page.screenshot(path=str(tmp_path / "fresh-progress.png"))
    nav = page.locator('[data-testid="stSidebarNav"]')
    expect(nav).to_contain_text("Customer chat")
    expect(nav).not_to_contain_text("Admin")
    expect(page.get_by_text("What the demo contains")).to_be_visible(timeout=300_000)

    states: list[tuple[float, str]] = page.evaluate("window.__nav")
    progress_at: float = page.evaluate("window.__progressAt")
    automatic_until = [
        states[i + 1][0] if i + 1 < len(states) else float("inf")
        for i, (_, names) in enumerate(states)
        if names.endswith(AUTOMATIC_LIST)
    ]
    # Streamlit draws its own list first when a pages/ folder exists; app.py's navigation
    # replaces it in the same script run that first draws anything in the main area.
    assert all(until <= progress_at for until in automatic_until), (states, progress_at)
    assert states[-1][1] == "home home|chat customer chat", states
    page.context.close()
