"""First start and warm pages in a real browser (targets on an idle 2-core machine: first start
≤ 45 s, every warm page ≤ 1.5 s, progress on screen within the first second).

First start: a new ``streamlit run app.py`` on an empty data folder, timed from launching the
process until Home shows the seeded demo; the first text in the main area is timed from the
first page request, and from the moment the page's frontend connected to the server (before
that the browser is loading Streamlit's own scripts); then until Home's progress bar says the
demo history's short pass is done (``--history-days``, default 14; 0 makes none).
Warm pages: every page of every role opened from the sidebar while the rest of the history is
made in the background, timed from the click until the page's title is shown and its script
run has finished (best of ``--tries``, and the worst).
Run ``python -m bench.bench_pages [--tries N] [--history-days N]``.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from bench._browser import CHROMIUM, CHROMIUM_FLAGS, running_app
from pages._shared.navigation import PAGES, pages_for

WAIT_MS = 600_000
ROLES = {"customer": "Customer", "agent": "Support agent", "admin": "Admin"}
TITLES = {
    "Home": "Support Observatory",
    "Scenarios": "Scenarios",
    "Customer chat": "Customer chat",
    "Agent view": "Agent view",
    "Knowledge base": "Knowledge base",
    "Traces": "Traces",
    "Analytics": "Analytics",
    "Admin": "Admin",
}


def wait_idle(page: Any) -> None:
    """Until the script run has finished (Streamlit's running indicator is gone)."""
    from playwright.sync_api import expect

    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=WAIT_MS)


def open_page(page: Any, title: str) -> float:
    from playwright.sync_api import expect

    started = time.perf_counter()
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title, exact=True).click()
    heading = page.get_by_role("heading", name=TITLES[title])
    expect(heading.first).to_be_visible(timeout=WAIT_MS)
    wait_idle(page)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tries", type=int, default=3)
    parser.add_argument("--history-days", type=int, default=14)
    args = parser.parse_args()
    from playwright.sync_api import expect, sync_playwright

    launched = time.perf_counter()
    with running_app(history_days=args.history_days) as url, sync_playwright() as playwright:
        healthy = time.perf_counter() - launched
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        connected: list[float] = []
        page.on("websocket", lambda _socket: connected.append(time.perf_counter()))
        requested = time.perf_counter()
        page.goto(url)
        main_area = page.get_by_test_id("stMain")
        expect(
            main_area.get_by_text("Starting Support Observatory")
            .or_(main_area.get_by_text("First start"))
            .first
        ).to_be_visible(timeout=WAIT_MS)
        shown = time.perf_counter()
        progress, frontend = shown - requested, shown - connected[0]
        expect(page.get_by_text("What the demo contains")).to_be_visible(timeout=WAIT_MS)
        wait_idle(page)
        ready = time.perf_counter()
        story = ready
        if args.history_days:
            expect(page.get_by_text("Making the demo history")).to_be_visible(timeout=WAIT_MS)
            expect(page.get_by_text("(the rest)")).to_be_visible(timeout=WAIT_MS)
            story = time.perf_counter()
        warm: dict[tuple[str, str], list[float]] = {}
        for role, label in ROLES.items():
            page.get_by_role("radiogroup").get_by_text(label, exact=True).click()
            wait_idle(page)
            titles = [entry.title for entries in pages_for(role).values() for entry in entries]
            for _ in range(args.tries):
                for title in titles:
                    warm.setdefault((role, title), []).append(open_page(page, title))
        browser.close()
    load = os.getloadavg()
    print(f"first start in chromium (load average {load[0]:.1f}, {os.cpu_count()} cores):")
    print(f"  process launch to server up          {healthy:6.1f} s")
    print(f"  page request to progress on screen   {progress:6.1f} s")
    print(f"  ... of which after the page connected {frontend:5.1f} s")
    print(f"  process launch to Home with the demo {ready - launched:6.1f} s")
    if args.history_days:
        print(f"  ... to the history's short pass done {story - launched:6.1f} s")
    print(f"warm pages, click to page drawn, {args.tries} tries (best / worst):")
    for (role, title), seconds in warm.items():
        print(f"  {role:<9} {title:<15} {min(seconds):5.2f} s / {max(seconds):5.2f} s")
    assert len(warm) == sum(len(entry.roles) for entry in PAGES)


if __name__ == "__main__":
    main()
