"""A message the engine could not store because the app database is away stays queued, the
snapshot says why in one sentence, and it goes through once the database answers again."""

from __future__ import annotations

import time
from collections.abc import Generator

from core.conversation.engine import HELD
from core.conversation.turn_queue import QueuedMessage, TurnQueue
from core.conversation.turns import TurnEvent, TurnRequest, TurnResult, TurnStatus
from core.db.held import HeldWrites
from core.errors import DatabaseAway


class FlakyDatabase:
    """``ConversationEngine.stream`` while the database is away for the first ``away`` tries."""

    def __init__(self, away: int) -> None:
        self.away = away
        self.keys: list[str | None] = []

    def stream(self, request: TurnRequest) -> Generator[TurnEvent, None, None]:
        self.keys.append(request.request_key)
        if len(self.keys) <= self.away:
            raise DatabaseAway(HELD)
        yield TurnResult(request.conversation_id or "", TurnStatus.ANSWERED, "Done.", 1, 2)


def _no_files(filename: str, data: bytes, *, source: str, scope: str) -> object:
    raise AssertionError("no files here")


def test_a_held_message_waits_says_so_and_goes_through_once_the_database_is_back() -> None:
    engine = FlakyDatabase(away=3)
    held = HeldWrites()
    turns = TurnQueue(engine.stream, _no_files, lambda _: 0, held=held, retry_s=(0.05, 0.1))

    turns.submit(QueuedMessage(TurnRequest(user_id=1, text="Hi", conversation_id="c1")))
    sentences = set()
    deadline = time.monotonic() + 10
    finished = []
    while time.monotonic() < deadline and not finished:
        snapshot = turns.wait(-1, 0.02)
        sentences.add(snapshot.held)
        finished = turns.take_finished()

    assert HELD in sentences
    assert [f.result.text for f in finished if f.result] == ["Done."]
    assert len(engine.keys) == 4 and len(set(engine.keys)) == 1 and engine.keys[0]
    assert turns.snapshot().held is None
    counts = held.counts()
    assert (counts.held, counts.held_total, counts.stored_after_wait) == (0, 1, 1)
