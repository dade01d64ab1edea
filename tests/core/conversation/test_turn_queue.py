"""The chat's message queue: every message answered once, in the order sent; an answer is cut
short by a message sent while it streams, not by one that was already waiting."""

from __future__ import annotations

import threading
from collections.abc import Generator
from concurrent.futures import Future

from core.conversation import TextDelta, TurnEvent, TurnRequest, TurnResult, TurnStatus
from core.conversation.turn_queue import QueuedMessage, QueueSnapshot, TurnQueue
from core.errors import DocumentRejected

WAIT_S = 10.0


class FakeEngine:
    """Streams two words per message; the first message's second word waits for ``gate``."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.asked: list[str] = []
        self.closed_early: list[str] = []

    def stream(self, request: TurnRequest) -> Generator[TurnEvent, None, None]:
        self.asked.append(request.text)
        finished = False
        try:
            yield TextDelta(f"About {request.text}: ")
            if len(self.asked) == 1:
                self.gate.wait(WAIT_S)
            yield TextDelta("yes.")
            finished = True
            yield TurnResult("c1", TurnStatus.ANSWERED, "yes.", user_message_id=len(self.asked))
        finally:
            if not finished:
                self.closed_early.append(request.text)


def _message(text: str) -> QueuedMessage:
    return QueuedMessage(TurnRequest(user_id=1, text=text, conversation_id="c1"))


def _until(turns: TurnQueue, done: object) -> QueueSnapshot:
    snapshot = turns.snapshot()
    while not done(snapshot):  # type: ignore[operator]
        before = snapshot.version
        snapshot = turns.wait(before, WAIT_S)
        assert snapshot.version != before, "the queue stopped moving"
    return snapshot


def _newest_id(conversation_id: str) -> int:
    return 0


def _no_ingest(filename: str, data: bytes, *, source: str, scope: str) -> None:
    raise AssertionError("no file was attached")


def test_twelve_messages_sent_at_once_are_each_answered_once_in_order() -> None:
    engine = FakeEngine()
    engine.gate.set()
    turns = TurnQueue(engine.stream, _no_ingest, _newest_id)
    texts = [f"message {n}" for n in range(1, 13)]

    for text in texts:  # each from its own thread, as page runs would
        sender = threading.Thread(target=turns.submit, args=(_message(text),))
        sender.start()
        sender.join()
    _until(turns, lambda s: s.idle)

    finished = turns.take_finished()
    assert engine.asked == texts
    assert [f.message.request.text for f in finished] == texts
    assert all(f.error is None for f in finished)
    assert turns.take_finished() == []


def test_a_message_sent_while_an_answer_streams_cuts_it_but_waiting_ones_do_not() -> None:
    engine = FakeEngine()
    turns = TurnQueue(engine.stream, _no_ingest, _newest_id)
    turns.submit(_message("returns"))
    _until(turns, lambda s: s.live is not None and s.live.answer.startswith("About returns"))

    turns.submit(_message("refunds"))
    turns.submit(_message("repairs"))
    waiting = turns.snapshot().waiting
    engine.gate.set()
    _until(turns, lambda s: s.idle)

    assert [m.request.text for m in waiting] == ["refunds", "repairs"]
    assert engine.closed_early == ["returns"]
    outcomes = {f.message.request.text: f.result for f in turns.take_finished()}
    assert outcomes["returns"] is None
    assert outcomes["refunds"] is not None and outcomes["repairs"] is not None


def test_a_file_that_cannot_be_read_is_one_sentence_and_the_turn_is_not_run() -> None:
    engine = FakeEngine()

    def refuse(filename: str, data: bytes, *, source: str, scope: str) -> None:
        raise DocumentRejected(f"{filename} is empty; attach a file with text in it.")

    turns = TurnQueue(engine.stream, refuse, _newest_id)
    turns.submit(QueuedMessage(_message("summarise").request, files=(("empty.txt", b""),)))
    _until(turns, lambda s: s.idle)

    [finished] = turns.take_finished()
    assert finished.error == "empty.txt is empty; attach a file with text in it."
    assert engine.asked == []


def test_a_large_file_refused_beside_the_answer_still_gets_its_sentence() -> None:
    engine = FakeEngine()
    engine.gate.set()
    refusal: Future[object] = Future()

    def beside(filename: str, data: bytes, *, source: str, scope: str) -> Future[object]:
        return refusal

    turns = TurnQueue(engine.stream, beside, _newest_id)
    turns.submit(QueuedMessage(_message("summarise").request, files=(("big.pdf", b"%PDF"),)))
    _until(turns, lambda s: s.idle)
    [answered] = turns.take_finished()
    refusal.set_exception(DocumentRejected("big.pdf has 3,000 pages; the limit is 500."))

    [refused] = turns.take_finished()
    assert answered.result is not None and engine.asked == ["summarise"]
    assert refused.error == "big.pdf was not indexed: big.pdf has 3,000 pages; the limit is 500."
