"""The simulator acts only when asked, on the order named (issue 17, seen 1 and 2).

Regressions: an information question cancelled an order; "Where is my order #10136?" after
ORD-10230 was answered about ORD-10230; "are agents around on Sundays?" opened a ticket.
"""

from __future__ import annotations

import pytest
from sqlmodel import Session, col, select

from core.conversation import TurnRequest, TurnResult
from core.db.models import Order, OrderStatus
from tests.core.conversation.conftest import App


def _orders_of_one_customer(app: App) -> list[Order]:
    with Session(app.services.db) as session:
        orders = session.exec(
            select(Order).where(Order.status == OrderStatus.PROCESSING).order_by(col(Order.id))
        ).all()
        first = orders[-1]
        return list(
            session.exec(
                select(Order).where(Order.user_id == first.user_id).order_by(col(Order.id))
            ).all()
        )


def _conversation(app: App, user_id: int, *texts: str) -> list[TurnResult]:
    results: list[TurnResult] = []
    for text in texts:
        conversation_id = results[-1].conversation_id if results else None
        results.append(
            app.services.engine.send(
                TurnRequest(user_id=user_id, text=text, conversation_id=conversation_id)
            )
        )
    return results


@pytest.mark.parametrize(
    "question",
    [
        "Can I get free shipping on my orders?",
        "What happens if a delivery is late? Do I get the shipping cost back?",
        "If I cancelled {number}, how soon would I get my money back?",
        "are agents around on Sundays?",
        "What's your policy on cancelling an order that has shipped?",
    ],
)
def test_an_information_question_after_an_order_lookup_changes_nothing(
    fresh: App, question: str
) -> None:
    order = next(o for o in _orders_of_one_customer(fresh) if o.status is OrderStatus.PROCESSING)

    _, answer = _conversation(
        fresh,
        order.user_id,
        f"Where is my order {order.number}?",
        question.format(number=order.number),
    )

    assert not answer.tool_steps, [step.name for step in answer.tool_steps]
    with Session(fresh.services.db) as session:
        assert session.get(Order, order.id).status is OrderStatus.PROCESSING  # type: ignore[union-attr]
    assert answer.pending_action is None


def test_the_order_named_in_this_message_wins_over_an_earlier_one(fresh: App) -> None:
    first, second = _orders_of_one_customer(fresh)[:2]
    digits = second.number.removeprefix("ORD-")

    _, answer = _conversation(
        fresh,
        first.user_id,
        f"Where is my order {first.number}?",
        f"Where is my order #{digits}?",
    )

    assert [s.arguments for s in answer.tool_steps] == [{"order_number": second.number}]
    assert second.number in answer.text and first.number not in answer.text


def test_an_order_question_naming_no_order_asks_for_its_number(fresh: App) -> None:
    order = _orders_of_one_customer(fresh)[0]

    _, answer = _conversation(
        fresh, order.user_id, f"Where is my order {order.number}?", "And where is my other order?"
    )

    assert not answer.tool_steps
    assert "order number" in answer.text


def test_a_rule_about_any_order_in_some_state_is_answered_not_acted_on(fresh: App) -> None:
    order = _orders_of_one_customer(fresh)[0]

    (answer,) = _conversation(
        fresh, order.user_id, "Can I still cancel an order that has been packed?"
    )

    assert "packed" in answer.text and "order number?" not in answer.text
    assert not answer.tool_steps and answer.pending_action is None


def test_how_long_i_have_is_my_return_window_not_our_refund_time(fresh: App) -> None:
    order = _orders_of_one_customer(fresh)[0]

    (answer,) = _conversation(
        fresh, order.user_id, "How long have I got to send back a jacket I don't like?"
    )

    assert "within 30 days" in answer.text
