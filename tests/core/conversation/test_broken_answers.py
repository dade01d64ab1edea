"""Broken answers are never kept as answers: a stream that fails after its first words keeps
those words with the apology, and only whole answers are cached for the next customer."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from core.conversation import ConversationEngine, TurnRequest, TurnStatus, list_messages
from core.conversation.engine import APOLOGY
from core.providers.base import ChatChunk, ChatRequest, ChatResponse
from core.providers.errors import MalformedResponse
from core.router import RoutedResponse
from tests.core.conversation.conftest import App


class CutOffRouter:
    """Streams ``words`` then fails as a provider cut off midway; or, with ``finish``, ends
    with a response carrying that finish reason."""

    def __init__(self, words: str, finish: str | None = None) -> None:
        self.words = words
        self.finish = finish
        self.calls = 0

    def stream(
        self, request: ChatRequest, route: Sequence[str], **_: Any
    ) -> Iterator[ChatChunk | RoutedResponse]:
        self.calls += 1
        yield ChatChunk(self.words)
        if self.finish is None:
            raise MalformedResponse("OpenAI (gpt-4o-mini) ended its answer before finishing it.")
        response = ChatResponse(
            self.words, [], "gpt-4o-mini", "openai", 10, 3, 0, self.finish, True
        )
        yield RoutedResponse(response, [])


def engine_over(app: App, router: CutOffRouter) -> ConversationEngine:
    return ConversationEngine(replace(app.services.engine.parts, router=router))


def test_words_shown_before_a_failure_are_kept_with_the_apology(fresh: App) -> None:
    customer = fresh.customer(14)
    engine = engine_over(fresh, CutOffRouter("Thanks for "))

    result = engine.send(TurnRequest(user_id=customer.id or 0, text="Can I return boots?"))

    assert result.status is TurnStatus.FAILED
    assert result.text == f"Thanks for\n\n{APOLOGY}"
    stored = list_messages(fresh.services.db, result.conversation_id)[-1]
    assert stored.content == result.text
    assert stored.error and "before finishing" in stored.error


def test_an_answer_cut_at_the_token_limit_is_not_replayed_from_the_cache(fresh: App) -> None:
    customer = fresh.customer(15)
    router = CutOffRouter("Our return window is", finish="length")
    engine = engine_over(fresh, router)
    question = TurnRequest(user_id=customer.id or 0, text="How long is the return window?")

    first = engine.send(question)
    second = engine.send(question)

    assert first.status is TurnStatus.ANSWERED
    assert not second.cached
    assert router.calls == 2


def test_a_whole_answer_is_still_cached(fresh: App) -> None:
    customer = fresh.customer(16)
    router = CutOffRouter("Our return window is 30 days.", finish="stop")
    engine = engine_over(fresh, router)
    question = TurnRequest(user_id=customer.id or 0, text="What is the return window?")

    engine.send(question)
    second = engine.send(question)

    assert second.cached and router.calls == 1
