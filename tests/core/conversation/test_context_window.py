from collections.abc import Sequence

from core.conversation.context_window import (
    KEEP_RECENT_MESSAGES,
    History,
    budget_tokens,
    fit_history,
)
from core.providers.base import ChatMessage


def _history(turns: int) -> History:
    messages = []
    for number in range(turns):
        messages.append(
            ChatMessage(role="user", content=f"Question {number} " + "about boots " * 40)
        )
        messages.append(ChatMessage(role="assistant", content=f"Answer {number} " + "we can " * 40))
    return History(None, messages, list(range(1, len(messages) + 1)))


def test_history_within_budget_is_sent_unchanged() -> None:
    history = _history(3)
    calls: list[Sequence[ChatMessage]] = []

    fitted = fit_history("rules", history, model="gpt-4o", budget=10_000, summarise=calls.append)  # type: ignore[arg-type]

    assert fitted.messages == history.messages
    assert fitted.tokens_saved == 0 and not calls


def test_long_history_keeps_recent_turns_and_summarises_the_rest() -> None:
    history = _history(10)
    summarised: list[Sequence[ChatMessage]] = []

    def summarise(messages: Sequence[ChatMessage]) -> str:
        summarised.append(messages)
        return "The customer asked about boots ten times."

    fitted = fit_history("rules", history, model="gpt-4o", budget=800, summarise=summarise)

    assert fitted.messages == history.messages[-KEEP_RECENT_MESSAGES:]
    assert fitted.summary == "The customer asked about boots ten times."
    assert len(summarised[0]) == 20 - KEEP_RECENT_MESSAGES
    assert fitted.summarised_messages == 20 - KEEP_RECENT_MESSAGES
    assert fitted.tokens_saved > 1000


def test_budget_is_a_share_of_the_window_less_the_answer() -> None:
    assert budget_tokens(128_000, 4_000, 0.5) == 60_000
    assert budget_tokens(1_000, 4_000, 0.5) == 512
