import pytest

pytestmark = pytest.mark.browser


def test_first_start_serves_the_home_page_with_seeded_data(page: object) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    expect(page.get_by_text("What the demo contains")).to_be_visible(timeout=300_000)
    customers = page.locator('[data-testid="stMetric"]').filter(has_text="Customers")
    expect(customers).to_contain_text("60", timeout=120_000)
    expect(page.locator('[data-testid="stMetric"]').filter(has_text="Orders")).to_contain_text("240")
    expect(page.get_by_text("Qdrant (local mode)")).to_be_visible()
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
