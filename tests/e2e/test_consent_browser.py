"""The consent card in a real browser: a change the customer asks for waits for their yes.

On an app started from ``python -m seed`` data: asking to cancel a processing order shows the
card; Confirm cancels it (the row changes, the transcript says so); Keep my order leaves the
order as it was, and the reply says nothing was changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlmodel import Session, col, select

from bench._browser import app_env, seed_folder
from core.db.models import Order, OrderStatus, User
from tests.e2e.conftest import new_tab, serve_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def consent_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The app on a folder that ``python -m seed`` filled, and that folder's database."""
    data_dir = tmp_path_factory.mktemp("consent-e2e") / "data"
    seed_folder(data_dir)
    with serve_app(app_env(data_dir, simulator_speed=0), data_dir / "streamlit.log") as url:
        yield url, data_dir / "app.db"


def _customer_with_two_processing_orders(database: Path) -> tuple[User, list[Order]]:
    engine = create_engine(f"sqlite:///{database}")
    try:
        with Session(engine) as session:
            processing = session.exec(
                select(Order).where(Order.status == OrderStatus.PROCESSING).order_by(col(Order.id))
            ).all()
            for order in processing:
                mine = [o for o in processing if o.user_id == order.user_id]
                if len(mine) >= 2:
                    user = session.get(User, order.user_id)
                    assert user is not None
                    return user, mine[:2]
    finally:
        engine.dispose()
    raise AssertionError("the seed has no customer with two processing orders")


def _status(database: Path, order_id: int | None) -> OrderStatus:
    engine = create_engine(f"sqlite:///{database}")
    try:
        with Session(engine) as session:
            order = session.get(Order, order_id)
            assert order is not None
            return order.status
    finally:
        engine.dispose()


def test_confirm_cancels_and_keep_my_order_keeps_it(
    browser: object, consent_app: tuple[str, Path]
) -> None:
    from playwright.sync_api import expect

    url, database = consent_app
    customer, (confirmed, kept) = _customer_with_two_processing_orders(database)
    tab = new_tab(browser, url)
    expect(tab.get_by_text("What the demo contains")).to_be_visible(timeout=300_000)
    tab.get_by_role("link", name="Customer chat").click()
    sidebar = tab.get_by_test_id("stSidebar")
    sidebar.get_by_test_id("stSelectbox").first.click()
    tab.keyboard.type(customer.email)
    tab.get_by_role("option").filter(has_text=customer.email).click()
    expect(tab.get_by_text(f"chatting as {customer.name}")).to_be_visible()
    box = tab.get_by_placeholder("Ask about an order, a return, an appointment…")
    messages = tab.get_by_test_id("stChatMessage")
    card = tab.locator("[class*='st-key-consent_card_']")

    box.fill(f"Please cancel my order {confirmed.number}")
    box.press("Enter")
    expect(card.filter(has_text=f"Cancel {confirmed.number}")).to_be_visible()
    assert _status(database, confirmed.id) is OrderStatus.PROCESSING
    card.get_by_role("button", name="Confirm").click()

    expect(messages.filter(has_text=f"{confirmed.number} has been cancelled")).to_be_visible()
    assert _status(database, confirmed.id) is OrderStatus.CANCELLED

    box.fill(f"Please cancel my order {kept.number}")
    box.press("Enter")
    expect(card.filter(has_text=f"Cancel {kept.number}")).to_be_visible()
    card.get_by_role("button", name="Keep my order").click()

    expect(messages.filter(has_text="nothing has been changed")).to_be_visible()
    expect(card).to_have_count(0)
    assert _status(database, kept.id) is OrderStatus.PROCESSING
    expect(tab.get_by_test_id("stException")).to_have_count(0)
    tab.context.close()
