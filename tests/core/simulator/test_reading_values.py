"""What a question's value is about, and names written as initials."""

from __future__ import annotations

from core.simulator.cited import compose_cited_answer
from core.simulator.question import read_question
from core.simulator.sources import Source
from core.simulator.words import content_stems

STEPS = """## Step by step

1. **The parcel reaches the warehouse.** Most US returns arrive 3–8 business days after drop-off.
2. **Inspection and refund.** We inspect items and issue your refund within 5–7 business days \
after the item reaches the warehouse.
"""
ZONES = """## Where we ship

| Destination | Delivery time |
|---|---|
| Standard (US) | 3–7 business days |
| European Union | 4–7 business days |
"""


def test_a_value_counted_from_the_doing_asked_about_does_not_answer_it() -> None:
    question = read_question("How long do returns take to reach your warehouse?")

    assert question.counts_from("refund within 5–7 business days after the item reaches it")
    assert not question.counts_from("Most US returns arrive 3–8 business days after drop-off")


def test_how_long_a_return_takes_to_arrive_is_the_transit_time() -> None:
    answer = compose_cited_answer(
        "How long do returns take to reach your warehouse?", [Source(1, "Refunds", STEPS)]
    )

    assert answer is not None and answer.find("3–8") >= 0
    assert "5–7" not in answer.split("[1]")[0]


def test_initials_match_the_name_they_stand_for() -> None:
    assert "eu" in content_stems("European Union (all 27 countries)")
    assert "no" not in content_stems("Northwind Outfitters")
    answer = compose_cited_answer("How long does EU delivery take?", [Source(1, "Shipping", ZONES)])

    assert answer is not None and answer.startswith("European Union")


CLUB = """## Trail Rewards

- Rewards appear in **Account → Trail Club** 30 days after delivery (after the standard return \
window, so returned items don't earn).
- You earn 5% of the amount paid for full-price items.
"""
WINDOWS = """## How long you have

| Customer | Return window | Starts on |
|---|---|---|
| Everyone | 30 days | the delivery date |
| Trail Club members | 60 days | the delivery date |
"""


def test_a_row_with_the_value_in_a_column_named_for_it_answers_first() -> None:
    sources = [Source(1, "Trail Club Membership", CLUB), Source(2, "Returns Policy", WINDOWS)]

    answer = compose_cited_answer("I'm in Trail Club, how many days do I get for returns?", sources)

    assert answer is not None and answer.startswith("Trail Club members: return window 60 days")
