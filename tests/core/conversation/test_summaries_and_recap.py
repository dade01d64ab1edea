"""Summaries and recaps (issue 17, seen 4): "Can you summarise this?" over an attached PDF used
to answer "There is nothing to summarise yet.", and "Remind me what we talked about at the start"
said the help centre had nothing on it."""

from __future__ import annotations

import re

from core.conversation import TurnRequest
from seed.pdf import render_markdown_pdf
from tests.core.conversation.conftest import App

MANUAL = """# Tent Care Manual

## Pitching

Pitch the Basecamp tent on level ground and stake the corners before raising the poles.
Tension the guylines evenly so the fly does not touch the inner tent.

## Cleaning

Clean the tent with lukewarm water and a soft sponge, never in a washing machine.
Dry it fully in the shade before packing it away to prevent mildew.

## Storage

Store the tent loosely in a cool, dry place, not in its compression sack.
Check the seams once a year and reseal them with seam sealer when they peel.
"""


def test_summarise_this_summarises_the_attached_pdf_with_page_citations(fresh: App) -> None:
    customer = fresh.customer(6)
    engine = fresh.services.engine
    conversation_id = engine.start_conversation(customer.id or 0)
    fresh.services.kb.ingest(
        "tent-care.pdf",
        render_markdown_pdf(MANUAL, "Tent Care Manual"),
        source="conversation",
        scope=conversation_id,
    )

    result = engine.send(
        TurnRequest(
            user_id=customer.id or 0,
            text="Can you summarise this?",
            conversation_id=conversation_id,
        )
    )

    assert "nothing to summarise" not in result.text
    assert "Tent Care Manual" in result.text
    assert re.search(r"p\.\d", result.text) and re.search(r"\[\d\]", result.text)
    assert any(c.title.startswith("Tent Care Manual") for c in result.citations)


def test_remind_me_what_we_talked_about_is_answered_from_the_conversation(fresh: App) -> None:
    customer = fresh.customer(7)
    engine = fresh.services.engine
    first = engine.send(
        TurnRequest(user_id=customer.id or 0, text="How long do I have to return hiking boots?")
    )
    engine.send(
        TurnRequest(
            user_id=customer.id or 0,
            text="Do you sell gift cards?",
            conversation_id=first.conversation_id,
        )
    )

    result = engine.send(
        TurnRequest(
            user_id=customer.id or 0,
            text="Remind me what we talked about at the start",
            conversation_id=first.conversation_id,
        )
    )

    assert "How long do I have to return hiking boots?" in result.text
    assert "help centre" not in result.text
