"""The agent view and trace links in a real browser, on an app started from ``python -m seed``
data (no span yet)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench import _agent_flow as flow
from bench._browser import app_env, seed_folder
from tests.e2e.conftest import serve_app

pytestmark = pytest.mark.browser

TITLES = ["The zip on my jacket broke after a week", "Where is the parcel for my tent?"]


@pytest.fixture(scope="module")
def seeded_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on a folder that ``python -m seed`` filled, with two customer conversations."""
    data_dir = tmp_path_factory.mktemp("agent-e2e") / "data"
    seed_folder(data_dir)
    flow.add_conversations(data_dir, TITLES)
    with serve_app(app_env(data_dir), data_dir / "streamlit.log") as url:
        yield url


@pytest.fixture
def tab(browser: object, seeded_app: str) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    yield context.new_page()
    context.close()


def test_the_agent_works_a_conversation_without_an_error_box(tab: object, seeded_app: str) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(tab, Page)
    tab.goto(seeded_app)
    flow.open_agent_view(tab)
    flow.open_conversation(tab, TITLES[0])
    heading = flow.main_area(tab).get_by_role("heading", name=TITLES[0])

    empty = flow.main_area(tab).get_by_text("Nothing here: no conversation matches")
    for which, queue_empty in (("negative feedback", True), ("PII redacted", True), ("all", False)):
        flow.pick_filter(tab, which)
        if queue_empty:
            expect(empty).to_be_visible(timeout=flow.WAIT_MS)
        else:
            expect(empty).to_be_hidden(timeout=flow.WAIT_MS)
        expect(heading).to_be_visible()
        expect(tab.get_by_test_id("stException")).to_have_count(0)
        expect(tab.get_by_test_id("stAlertContentError")).to_have_count(0)

    flow.claim(tab)
    flow.send(tab, "A replacement zip is on its way today.")
    flow.create_ticket(tab, "Replace the jacket zip", "High")
    flow.resolve(tab)
    tickets = flow.main_area(tab).get_by_text("Replace the jacket zip (resolved, high)")
    expect(tickets).to_be_visible()
    notice = (
        flow.main_area(tab)
        .get_by_test_id("stChatMessage")
        .filter(has_text="marked this conversation as resolved and closed ticket #")
    )
    expect(notice).to_be_visible()
    expect(tab.get_by_test_id("stException")).to_have_count(0)


def test_a_trace_link_in_a_new_session_says_it_is_for_staff_then_opens(
    browser: object, tab: object, seeded_app: str
) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(tab, Page)
    # Started and shown once, as a running app is: a fresh process's very first request runs
    # a `pages/` file directly (Streamlit's old multipage mode, until `st.navigation` has run).
    started = browser.new_page()  # type: ignore[attr-defined]
    started.goto(seeded_app)
    flow.wait_started(started)
    started.close()
    trace_id = "0123456789abcdef0123456789abcdef"
    tab.set_default_timeout(flow.WAIT_MS)
    tab.goto(f"{seeded_app}/traces?trace={trace_id}")

    expect(tab.get_by_text("which is for support staff")).to_be_visible()
    expect(tab.get_by_role("dialog")).to_have_count(0)
    expect(tab.get_by_text("Page not found")).to_have_count(0)
    tab.get_by_test_id("stSidebar").get_by_text("Support agent").click()

    expect(tab.get_by_role("heading", name="Traces")).to_be_visible(timeout=flow.WAIT_MS)
    expect(tab.get_by_text(f"There is no trace {trace_id}")).to_be_visible(timeout=flow.WAIT_MS)
    assert f"trace={trace_id}" in tab.url
