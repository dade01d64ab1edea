"""The simulator's answers state the fact asked for (issue 17, "answers that answer").

Regressions seen in the browser: "How long do I have to return a jacket?" quoted the jacket's
warranty row, not the 30-day return window; "Where is my order …? And what is your
late-delivery policy?" answered only the order's status; "What are your opening hours?" gave
appointment slot times and a ticket's response target.
"""

from __future__ import annotations

import re

from core.conversation import TurnRequest, TurnResult
from tests.core.conversation.conftest import App
from tests.core.conversation.test_careful_agent import _orders_of_one_customer


def _ask(app: App, text: str, user_id: int | None = None) -> TurnResult:
    customer = user_id if user_id is not None else app.customer().id
    assert customer is not None
    return app.services.engine.send(TurnRequest(user_id=customer, text=text))


def test_how_long_to_return_a_jacket_says_the_return_window(fresh: App) -> None:
    answer = _ask(fresh, "How long do I have to return a jacket?")

    assert "30 days" in answer.text
    assert "warranty" not in answer.text.lower()
    assert {citation.title for citation in answer.citations} == {"Returns Policy"}


def test_an_order_question_with_a_policy_question_gets_both_answers(fresh: App) -> None:
    order = _orders_of_one_customer(fresh)[0]

    answer = _ask(
        fresh,
        f"Where is my order {order.number}? And what is your late-delivery policy?",
        order.user_id,
    )

    assert [step.name for step in answer.tool_steps] == ["get_order_status"]
    status, _, policy = answer.text.partition("\n\n")
    assert order.number in status
    assert re.search(r"\b(?:late|lost|delayed)\b", policy), policy
    assert "Tracking Your Order" in {citation.title for citation in answer.citations}


def test_a_policy_question_after_a_missing_order_number_is_still_answered(fresh: App) -> None:
    answer = _ask(fresh, "Where is my order? And what is your late-delivery policy?")

    assert "order number" in answer.text
    assert re.search(r"\bdelivered late\b|\barrives late\b|\btreated as lost\b", answer.text)


def test_opening_hours_are_the_support_teams_hours(fresh: App) -> None:
    answer = _ask(fresh, "What are your opening hours?")

    assert re.search(r"24 hours a day|\d{1,2}:00–\d{1,2}:00 (?:ET|Pacific)", answer.text)
    assert "Slots" not in answer.text
    assert "first response target" not in answer.text
    assert {citation.title for citation in answer.citations} == {"Contact Support and Hours"}
