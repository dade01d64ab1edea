"""Take the README's screenshots: ``python -m docs.screenshots`` (``analytics``: only that one).

Needs Debian's chromium, and ``fonts-noto-color-emoji`` for the avatars and icons (without it
chromium draws empty boxes). The customer chat is taken as an admin, the one role that uses the
chat and may open Traces, so that each answer shows its trace link.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from bench._browser import browser_page, running_app, seed_folder

OUT = Path(__file__).resolve().parent


def main() -> None:
    from playwright.sync_api import expect

    with running_app(simulator_speed=1.0) as url, browser_page(url, height=1150) as page:
        page.get_by_text("Admin", exact=True).click()
        page.get_by_role("link", name="Customer chat").click()
        box = page.get_by_placeholder("Ask about an order, a return, an appointment…")
        questions = ("What is your return window?", "How long does a refund take?")
        for number, question in enumerate(questions, start=1):
            expect(box).to_be_enabled(timeout=60_000)
            box.fill(question)
            box.press("Enter")
            expect(page.get_by_text("(simulated)")).to_have_count(number, timeout=60_000)
        trace_links = page.locator('[data-testid="stPageLink"]').filter(has_text="Trace ")
        expect(trace_links).to_have_count(2, timeout=60_000)
        page.get_by_text("Sources [").last.click()
        page.get_by_role("button", name="Talk to a human").click()
        expect(page.get_by_text("An agent has been asked to join")).to_be_visible(timeout=60_000)
        page.wait_for_timeout(1_000)
        page.screenshot(path=str(OUT / "customer-chat.png"), full_page=False)

        page.get_by_text("Support agent", exact=True).click()
        page.get_by_role("link", name="Agent view").click()
        expect(page.get_by_text("Open a conversation")).to_be_visible(timeout=60_000)
        picker = page.locator('[data-testid="stSelectbox"]').filter(has_text="Open a conversation")
        picker.click()
        page.get_by_role("option").first.click()
        page.get_by_role("button", name="Draft a reply").click()
        expect(page.get_by_text("Intent")).to_be_visible(timeout=60_000)
        page.wait_for_timeout(1_000)
        page.screenshot(path=str(OUT / "agent-view.png"), full_page=False)
    print(f"wrote {OUT / 'customer-chat.png'} and {OUT / 'agent-view.png'}")


def analytics() -> None:
    """The Analytics page over the last 7 days of the demo history (``python -m seed
    --history 14``: the real engine on a simulated clock, with its outage and experiment)."""
    from playwright.sync_api import expect

    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        seed_folder(data_dir, history_days=14)
        with (
            running_app(simulator_speed=1.0, data_dir=data_dir) as url,
            browser_page(url, height=3400) as page,
        ):
            page.get_by_text("Support agent", exact=True).click()
            page.get_by_role("link", name="Analytics").click()
            expect(page.get_by_text("Models compared")).to_be_visible(timeout=120_000)
            page.locator('[data-testid="stSelectbox"]').filter(has_text="Time range").click()
            page.get_by_role("option", name="7 days").click()
            expect(page.get_by_text("Cost per conversation")).to_be_visible(timeout=120_000)
            expect(page.get_by_text("Recommendations")).to_be_visible(timeout=120_000)
            page.wait_for_timeout(3_000)
            page.screenshot(path=str(OUT / "analytics.png"), full_page=False)
    print(f"wrote {OUT / 'analytics.png'}")


if __name__ == "__main__":
    analytics() if sys.argv[1:] == ["analytics"] else main()
