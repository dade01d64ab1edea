"""The first page view of a fresh process: the role's navigation at once, the start-up progress
in the main area, never Streamlit's automatic list of the files in ``pages/``."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import PROJECT_ROOT, _free_port, _wait_healthy

pytestmark = pytest.mark.browser

AUTOMATIC_LIST = "admin|agent view|customer chat|home|knowledge base|traces"
RECORD_NAVIGATION = """
window.__nav = [];
new MutationObserver(() => {
  const nav = [...document.querySelectorAll('[data-testid="stSidebarNav"] a')]
    .map(a => a.innerText.replace(/\\s+/g, ' ').trim().toLowerCase()).join('|');
  const last = window.__nav[window.__nav.length - 1];
  if (!last || last[1] !== nav) window.__nav.push([performance.now(), nav]);
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


@pytest.fixture
def fresh_url(tmp_path: Path) -> Iterator[str]:
    """A new ``streamlit run app.py`` process on an empty data folder (first start)."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_URL"))}
    env |= {"DATA_DIR": str(tmp_path / "data"), "SIMULATOR_SPEED": "1"}
    with (tmp_path / "streamlit.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
             "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(url, process)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=20)


def test_a_fresh_start_shows_the_roles_pages_and_its_progress_never_the_file_list(
    browser: object, fresh_url: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    page = context.new_page()
    page.add_init_script(RECORD_NAVIGATION)
    started = time.monotonic()
    page.goto(fresh_url)
    page.wait_for_timeout(max(0, 3_000 - (time.monotonic() - started) * 1000))
    page.screenshot(path=str(tmp_path / "fresh-3s.png"))

    nav = page.locator('[data-testid="stSidebarNav"]')
    expect(nav).to_contain_text("Customer chat")
    expect(nav).not_to_contain_text("Admin")
    main = page.locator('[data-testid="stMain"]')
    expect(main).to_contain_text("Starting Support Observatory", timeout=1)
    expect(page.get_by_text("What the demo contains")).to_be_visible(timeout=180_000)

    states: list[tuple[float, str]] = page.evaluate("window.__nav")
    shown_ms = sum(
        (states[i + 1][0] if i + 1 < len(states) else states[i][0]) - moment
        for i, (moment, names) in enumerate(states)
        if names.endswith(AUTOMATIC_LIST)
    )
    # Streamlit runs its own list first when a pages/ folder exists; app.py replaces it before
    # anything slow, so it is gone within a frame or two.
    assert shown_ms < 150, states
    assert states[-1][1] == "home home|chat customer chat", states
    context.close()
