import pytest

pytestmark = pytest.mark.browser


def test_customer_asks_and_sees_a_streamed_cited_priced_answer(page: object) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    expect(page.get_by_text("What the demo contains")).to_be_visible(timeout=300_000)
    page.get_by_role("link", name="Customer chat").click()
    box = page.get_by_placeholder("Ask about an order, a return, an appointment…")
    expect(box).to_be_visible(timeout=120_000)

    box.fill("What is your return window?")
    box.press("Enter")

    answer = page.locator('[data-testid="stChatMessage"]').filter(has_text="30 days").last
    expect(answer).to_be_visible(timeout=120_000)
    expect(page.get_by_text("(simulated)").last).to_be_visible(timeout=120_000)
    expect(page.get_by_text("Sources [").last).to_be_visible()
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
