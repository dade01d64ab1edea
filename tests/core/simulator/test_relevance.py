"""A source is quoted only when it shares real words with the question, not "doesn't" or "back"."""

from __future__ import annotations

import openai
import pytest

from core.simulator.question import read_question
from core.simulator.relevance import rank_evidence
from core.simulator.sources import Source

QUESTION = "How long do I have to send something back if it doesn't fit?"
PAYMENTS = """## Common reasons and fixes

| Reason | What to do |
|---|---|
| Billing address or ZIP code doesn't match the card | Enter the address exactly as it appears \
on your card statement |
| Your bank flagged the purchase as unusual | Call the number on the back of your card, \
confirm the purchase, then retry |

Northwind Outfitters doesn't receive the detailed reason from your bank, so our agents can't \
tell you exactly why a card was declined. Your bank can.
"""
RETURNS = """If something isn't right, you can return it for a refund, an exchange or store credit.

## How long you have

| Customer | Return window | Starts on |
|---|---|---|
| Everyone | 30 days | the delivery date shown in your order's tracking |
| Trail Club members | 60 days | the delivery date shown in your order's tracking |

Ship the parcel within 14 days of starting the return.
"""


def system(*sources: tuple[str, str]) -> str:
    passages = "\n\n".join(
        f"[{number}] {title}\n{text}" for number, (title, text) in enumerate(sources, 1)
    )
    return f"You are the Northwind Outfitters support assistant.\n<sources>\n{passages}\n</sources>"


def answer(client: openai.OpenAI, system_prompt: str, question: str = QUESTION) -> str:
    reply = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": system_prompt},
            {"role": "user", "content": question},
        ],
    )
    return str(reply.choices[0].message.content)


@pytest.mark.parametrize("question", [QUESTION, QUESTION.replace("'", "’")])
def test_contractions_and_idioms_are_not_evidence(question: str) -> None:
    ranking = rank_evidence(read_question(question), [Source(1, "Failed payments", PAYMENTS)])

    assert ranking.evidence == ()


def test_an_off_target_source_gets_an_honest_fallback(openai_client: openai.OpenAI) -> None:
    text = answer(openai_client, system(("Failed payments and declines", PAYMENTS)))

    assert "don't have information about that" in text
    assert "card" not in text and "[1]" not in text


def test_the_returns_window_is_quoted_when_retrieval_offers_it(
    openai_client: openai.OpenAI,
) -> None:
    text = answer(
        openai_client,
        system(("Failed payments and declines", PAYMENTS), ("Returns policy", RETURNS)),
    )

    assert "30 days" in text and "[2]" in text
    assert "[1]" not in text and "card" not in text
