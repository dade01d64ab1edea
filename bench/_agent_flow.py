"""The agent view driven in chromium: open, claim, send, create a ticket, resolve, each timed
from the click to the moment its result is on the page. Shared by ``bench_agent_view`` and
the browser test of the agent view."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine

WAIT_MS = 120_000
START_MS = 900_000
"""A process's first page view imports and builds everything: minutes on a busy machine."""


def add_conversations(data_dir: Path, titles: list[str]) -> list[str]:
    """One conversation per title, each opened by a customer's message, in the app database."""
    from core.conversation.history import add_message, start_conversation
    from core.db.models import MessageRole, Role
    from core.directory import list_users

    engine = create_engine(f"sqlite:///{data_dir / 'app.db'}")
    try:
        customers = list_users(engine, Role.CUSTOMER)
        ids = []
        for number, title in enumerate(titles):
            conversation = start_conversation(engine, customers[number % len(customers)].id or 0)
            add_message(engine, conversation, MessageRole.USER, title)
            ids.append(conversation)
        return ids
    finally:
        engine.dispose()


def wait_started(page: Any) -> None:
    """Until Home has drawn the demo's contents (the app has finished starting); later steps
    wait up to ``WAIT_MS`` for what they click."""
    from playwright.sync_api import expect

    page.set_default_timeout(WAIT_MS)
    expect(page.get_by_text("What the demo contains")).to_be_visible(timeout=START_MS)


def open_agent_view(page: Any) -> None:
    """Switch the sidebar to Support agent and open the Agent view."""
    from playwright.sync_api import expect

    wait_started(page)
    page.get_by_test_id("stSidebar").get_by_text("Support agent").click()
    nav = page.get_by_test_id("stSidebarNav")
    nav.get_by_text("Agent view").click()
    expect(page.get_by_role("heading", name="Agent view")).to_be_visible(timeout=WAIT_MS)


def timed(action: Any, done: Any) -> float:
    """Seconds from ``action()`` until the locator ``done`` is visible; then waits until the
    run has finished (elements of the page before it are gone)."""
    from playwright.sync_api import expect

    started = time.perf_counter()
    action()
    expect(done).to_be_visible(timeout=WAIT_MS)
    elapsed = time.perf_counter() - started
    expect(done.page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=WAIT_MS)
    return elapsed


def main_area(page: Any) -> Any:
    return page.get_by_test_id("stMain")


def open_conversation(page: Any, title: str) -> float:
    picker = main_area(page).get_by_test_id("stSelectbox").filter(has_text="Open a conversation")
    picker.click()
    option = page.get_by_role("option").filter(has_text=title)
    heading = main_area(page).get_by_role("heading", name=title)
    return timed(option.first.click, heading)


def pick_filter(page: Any, which: str) -> None:
    group = main_area(page).get_by_test_id("stButtonGroup")
    group.get_by_text(which, exact=True).click()


def status_is(page: Any, status: str) -> Any:
    return main_area(page).get_by_text(f"Status {status}", exact=False)


def claim(page: Any) -> float:
    button = main_area(page).get_by_role("button", name="Claim").first
    return timed(button.click, status_is(page, "claimed"))


def send(page: Any, text: str) -> float:
    from playwright.sync_api import expect

    box = main_area(page).get_by_label("Reply to the customer")
    box.fill(text)
    box.press("Control+Enter")
    button = main_area(page).get_by_role("button", name="Send as agent")
    expect(button).to_be_enabled(timeout=WAIT_MS)
    bubble = main_area(page).get_by_test_id("stChatMessage").filter(has_text=text)
    return timed(button.click, bubble)


def create_ticket(page: Any, title: str, priority: str) -> float:
    from playwright.sync_api import expect

    main_area(page).get_by_role("button", name="Create ticket").click()
    field = page.get_by_label("Title")
    expect(field).to_be_visible(timeout=WAIT_MS)
    field.fill(title)
    page.get_by_test_id("stPopoverBody").get_by_test_id("stSelectbox").click()
    page.get_by_role("option", name=priority, exact=True).click()
    listed = main_area(page).get_by_text(f"{title} (open, {priority.lower()})")
    return timed(page.get_by_role("button", name="Open ticket").click, listed)


def resolve(page: Any) -> float:
    button = main_area(page).get_by_role("button", name="Resolve").first
    return timed(button.click, status_is(page, "resolved"))
