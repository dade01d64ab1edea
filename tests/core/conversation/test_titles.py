"""A number shaped like a card but failing its checksum is not redacted (it may be an order or a
reference), yet it never becomes a conversation's title or an agent-queue label."""

from core.conversation import QueueFilter, TurnRequest, get_conversation, list_messages, list_queue
from tests.core.conversation.conftest import App

NOT_A_CARD = "4532-1234-5678-9010"


def test_a_luhn_invalid_card_number_is_kept_in_the_message_but_not_in_title_or_queue(
    fresh: App,
) -> None:
    customer = fresh.customer(31)
    text = f"{NOT_A_CARD} was declined at checkout"

    result = fresh.services.engine.send(TurnRequest(user_id=customer.id or 0, text=text))

    stored = list_messages(fresh.services.db, result.conversation_id)[0]
    assert stored.content == text
    title = get_conversation(fresh.services.db, result.conversation_id).title
    assert title == "[card-like number] was declined at checkout"
    row = next(
        r
        for r in list_queue(fresh.services.db, QueueFilter.ALL, limit=500)
        if r.conversation_id == result.conversation_id
    )
    assert "4532" not in row.title and "4532" not in row.last_message
    assert row.last_message == "[card-like number] was declined at checkout"
