"""Arbitrary text into the chat: whatever a customer sends (lone surrogates, NUL, control
characters, Markdown, any script), only our own errors come out, the message is stored as every
backend can hold it, and nothing already stored changes."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.conversation import TurnRequest, TurnStatus, list_messages
from core.errors import ObservatoryError
from tests.core.conversation.conftest import App

anything = st.characters(exclude_categories=())
"""Every code point, lone surrogates and NUL included."""
messages = st.one_of(
    st.text(anything, min_size=1, max_size=80),
    st.sampled_from(
        [
            "caf\ud800 order?",
            "where\x00 is ORD-10001",
            "\x00",
            "\udcff\ud800",
            "![pixel](http://tracker.example/p.png)",
            "100% off_ sale",
        ]
    ),
)


def test_a_lone_surrogate_and_nul_are_stored_as_text_every_backend_takes(fresh: App) -> None:
    customer = fresh.customer(17)

    result = fresh.services.engine.send(
        TurnRequest(user_id=customer.id or 0, text="where\x00 is my caf\ud800 order?")
    )

    assert result.status is TurnStatus.ANSWERED
    question = list_messages(fresh.services.db, result.conversation_id)[-2]
    assert question.content == "where is my caf\ufffd order?"


def test_arbitrary_messages_raise_only_our_errors_and_change_nothing_stored(app: App) -> None:
    customer = app.customer(18)
    engine = app.services.engine
    kept = engine.send(TurnRequest(user_id=customer.id or 0, text="Do you ship to Canada?"))
    before = [(m.id, m.content) for m in list_messages(app.services.db, kept.conversation_id)]

    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(text=messages)
    def send_anything(text: str) -> None:
        try:
            result = engine.send(TurnRequest(user_id=customer.id or 0, text=text))
        except ObservatoryError as exc:
            assert str(exc) and "Traceback" not in str(exc)
            return
        stored = list_messages(app.services.db, result.conversation_id)
        assert all("\x00" not in m.content for m in stored)
        assert all(m.content.encode("utf-8") for m in stored)

    send_anything()
    after = [(m.id, m.content) for m in list_messages(app.services.db, kept.conversation_id)]
    assert after == before
