"""What happens by itself between two people: the agent's queue picks up a new conversation,
the customer's chat shows the agent's reply; and an answer interrupted by a new message."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.browser

PLACEHOLDER = "Ask about an order, a return, an appointment…"


def _open(open_tab: Callable[[str], Any], url: str) -> Any:
    from playwright.sync_api import expect

    page = open_tab(url)
    expect(page.get_by_text("What the demo contains")).to_be_visible(timeout=300_000)
    return page


def _send(page: Any, text: str) -> None:
    box = page.get_by_placeholder(PLACEHOLDER)
    box.fill(text)
    box.press("Enter")


def _picker_options(page: Any) -> list[str]:
    picker = page.locator('[data-testid="stSelectbox"]').filter(has_text="Open a conversation")
    picker.click()
    options = [o.inner_text() for o in page.get_by_role("option").all()]
    page.keyboard.press("Escape")
    return options


def _wait_for_option(page: Any, text: str, timeout_s: float = 120) -> str:
    """The picker's option containing ``text``, once the queue's own refresh has brought it
    (the picker is only opened and closed to read it, which reruns nothing)."""
    deadline = time.monotonic() + timeout_s
    while True:
        options = _picker_options(page)
        found = next((o for o in options if text in o), None)
        if found or time.monotonic() > deadline:
            assert found, f"no option with {text!r} after {timeout_s:.0f} s: {options}"
            return found
        page.wait_for_timeout(1_000)


def _newest_row_box(grid: Any) -> tuple[float, float]:
    """Where the newest row's selection box is drawn (the grid is a canvas)."""
    box = grid.bounding_box()
    assert box
    return box["x"] + 12, box["y"] + 52


def _click_until(page: Any, point: tuple[float, float], shown: Any, timeout_s: float = 180) -> None:
    """Click ``point`` until ``shown`` is visible: a click that lands while the queue's own
    refresh redraws the grid is lost, and the next one is not."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    deadline = time.monotonic() + timeout_s
    while True:
        page.mouse.click(*point)
        try:
            shown.wait_for(state="visible", timeout=60_000)
            return
        except PlaywrightTimeout:
            if time.monotonic() > deadline:
                raise


def test_the_agents_queue_and_the_customers_chat_update_by_themselves(
    open_tab: Callable[[str], Any], app_url: str
) -> None:
    from playwright.sync_api import expect

    agent = _open(open_tab, app_url)
    agent.get_by_text("Support agent", exact=True).click()
    agent.get_by_role("link", name="Agent view").click()
    expect(agent.get_by_text("Open a conversation")).to_be_visible(timeout=120_000)

    customer = _open(open_tab, app_url)
    customer.get_by_role("link", name="Customer chat").click()
    _send(customer, "The zip on my Summit jacket broke after a week")
    expect(customer.get_by_role("button", name="Talk to a human")).to_be_visible(timeout=120_000)
    customer.get_by_role("button", name="Talk to a human").click()
    expect(customer.get_by_text("An agent has been asked to join")).to_be_visible(timeout=120_000)

    new = _wait_for_option(agent, "zip on my Summit jacket")  # no click: the queue refreshes

    agent.locator('[data-testid="stSelectbox"]').filter(has_text="Open a conversation").click()
    agent.get_by_role("option", name=new).click()
    reply = agent.get_by_label("Reply to the customer")
    expect(reply).to_be_visible(timeout=120_000)
    reply.fill("Hi, I'm Sam from Northwind: a new zip is on its way.")
    agent.keyboard.press("Control+Enter")
    agent.get_by_role("button", name="Send as agent").click()

    sent = customer.get_by_text("Hi, I'm Sam from Northwind: a new zip is on its way.")
    expect(sent).to_be_visible(timeout=120_000)  # no click on the customer's side
    expect(customer.get_by_text("A support agent is handling this conversation.")).to_be_visible()


def test_picking_a_row_in_the_queue_opens_that_conversation(
    open_tab: Callable[[str], Any], app_url: str
) -> None:
    from playwright.sync_api import expect

    customer = _open(open_tab, app_url)
    customer.get_by_role("link", name="Customer chat").click()
    _send(customer, "My parcel to Lyon never arrived")
    expect(customer.get_by_role("button", name="Talk to a human")).to_be_visible(timeout=120_000)

    agent = _open(open_tab, app_url)
    agent.get_by_text("Support agent", exact=True).click()
    agent.get_by_role("link", name="Agent view").click()
    grid = agent.locator('[data-testid="stDataFrame"]')
    expect(grid).to_contain_text("My parcel to Lyon never arrived", timeout=120_000)
    _click_until(agent, _newest_row_box(grid), agent.get_by_label("Reply to the customer"))

    expect(agent.get_by_role("heading", name="My parcel to Lyon never arrived")).to_be_visible()


def test_sending_while_an_answer_streams_keeps_that_answer_and_says_it_was_cut(
    open_tab: Callable[[str], Any], app_url: str
) -> None:
    from playwright.sync_api import expect

    customer = _open(open_tab, app_url)
    customer.get_by_role("link", name="Customer chat").click()
    expect(customer.get_by_placeholder(PLACEHOLDER)).to_be_visible(timeout=120_000)
    messages = customer.locator('[data-testid="stChatMessage"]')

    _send(
        customer, "How do I return sale items bought in a store?"
    )  # asked nowhere else: not cached
    expect(messages.nth(1).locator('[data-testid="stMarkdownContainer"]').first).not_to_be_empty(
        timeout=120_000
    )
    _send(customer, "And how long does a refund take?")

    expect(messages).to_have_count(4, timeout=120_000)
    expect(messages.nth(3)).to_contain_text("(simulated)", timeout=120_000)
    expect(messages.nth(0)).to_contain_text("How do I return sale items bought in a store?")
    expect(messages.nth(1)).to_contain_text("Cut short: a new message was sent")
    expect(messages.nth(2)).to_contain_text("And how long does a refund take?")


def test_twelve_messages_sent_half_a_second_apart_are_all_stored_and_answered_in_order(
    open_tab: Callable[[str], Any], app_url: str
) -> None:
    from playwright.sync_api import expect

    customer = _open(open_tab, app_url)
    customer.get_by_role("link", name="Customer chat").click()
    expect(customer.get_by_placeholder(PLACEHOLDER)).to_be_visible(timeout=120_000)
    topics = ["returns", "refunds", "warranty", "shipping", "sizes", "gift cards", "repairs",
              "rentals", "price match", "store hours", "tents", "boots"]
    texts = [f"Message {n} of 12: tell me about {topic}" for n, topic in enumerate(topics, 1)]
    for text in texts:
        _send(customer, text)
        customer.wait_for_timeout(500)  # the customer's typing rhythm, not a wait for the page

    messages = customer.locator('[data-testid="stChatMessage"]')
    expect(messages).to_have_count(24, timeout=240_000)
    expect(messages.nth(23)).to_contain_text("(simulated)", timeout=120_000)
    _expect_each_message_then_its_answer(messages, texts)

    customer.reload()  # a new session reads the conversation back from the database
    customer.get_by_role("link", name="Customer chat").click()
    customer.get_by_text(texts[0][:30]).first.click()
    expect(messages).to_have_count(24, timeout=120_000)
    _expect_each_message_then_its_answer(messages, texts)


def _expect_each_message_then_its_answer(messages: Any, texts: list[str]) -> None:
    from playwright.sync_api import expect

    for index, text in enumerate(texts):
        expect(messages.nth(2 * index)).to_contain_text(text)
        answer = messages.nth(2 * index + 1)
        expect(answer).to_contain_text(re.compile(r"\(simulated\)|Cut short: a new message"))
