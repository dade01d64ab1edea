"""The consent card in the customer chat (issue 17, seen 1): nothing changes until the customer
clicks Confirm; "Keep my order" keeps it; the card is still there when the page is reopened."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from core.db import create_db_engine
from core.db.models import Order, OrderStatus
from tests.pages.conftest import APP

APP_TIMEOUT_S = 180
CHAT = "pages/customer_chat.py"


def _processing_order(data_dir: Path) -> Order:
    engine = create_db_engine(f"sqlite:///{data_dir / 'app.db'}")
    with Session(engine) as session:
        order = session.exec(select(Order).where(Order.status == OrderStatus.PROCESSING)).first()
    engine.dispose()
    assert order is not None
    return order


def _status(data_dir: Path, number: str) -> OrderStatus:
    engine = create_db_engine(f"sqlite:///{data_dir / 'app.db'}")
    with Session(engine) as session:
        order = session.exec(select(Order).where(Order.number == number)).one()
    engine.dispose()
    return order.status


def _ask_to_cancel(data_dir: Path) -> tuple[AppTest, Order]:
    at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT_S).run()
    at.switch_page(CHAT).run()
    order = _processing_order(data_dir)
    at.selectbox(key="chat_user_id").set_value(order.user_id).run()
    at.chat_input[0].set_value(f"Please cancel my order {order.number}").run()
    assert not at.exception, at.exception
    return at, order


def _card_buttons(at: AppTest) -> dict[str, object]:
    return {b.label: b for b in at.button if b.key and b.key.startswith("consent_")}


def test_the_card_asks_and_confirm_cancels(app_env: Path) -> None:
    at, order = _ask_to_cancel(app_env)

    question = [m.value for m in at.markdown if m.value.startswith(f"**Cancel {order.number}")]
    assert question and f"{order.amount:,.2f}" in question[0]
    assert set(_card_buttons(at)) == {"Confirm", "Keep my order"}
    assert _status(app_env, order.number) is OrderStatus.PROCESSING

    at.button(key=next(b.key for b in at.button if b.label == "Confirm")).click().run()

    assert not at.exception, at.exception
    assert _status(app_env, order.number) is OrderStatus.CANCELLED
    assert not _card_buttons(at)
    answers = [
        " ".join(m.value for m in c.markdown) for c in at.chat_message if c.name == "assistant"
    ]
    assert "cancelled" in answers[-1]


def test_keep_my_order_keeps_it_and_the_card_survives_a_reload(app_env: Path) -> None:
    at, order = _ask_to_cancel(app_env)

    at.run()
    assert set(_card_buttons(at)) == {"Confirm", "Keep my order"}, "still asked after a rerun"
    at.button(key=next(b.key for b in at.button if b.label == "Keep my order")).click().run()

    assert not at.exception, at.exception
    assert _status(app_env, order.number) is OrderStatus.PROCESSING
    assert not _card_buttons(at)
    answers = [
        " ".join(m.value for m in c.markdown) for c in at.chat_message if c.name == "assistant"
    ]
    assert "nothing has been changed" in answers[-1]
