"""Customer messages answered one at a time, in the order they were sent, off the page's thread.

A page hands every message to ``TurnQueue.submit`` the moment it is sent and returns at once, so
no message waits behind a streaming answer and none is lost; a worker thread answers them in
order through the engine. A message sent while the answer before it streams cuts that answer
short (the engine stores the part already given and marks it so); messages already waiting when
an answer starts let it finish. The page follows along with ``wait`` and ``take_finished``.

When the app database is away (``DatabaseAway``: nothing of the turn was stored), the message
stays at the head of the queue, ``QueueSnapshot.held`` says so in one sentence, and the worker
tries again with backoff until it goes through; its ``request_key`` keeps it stored once.

turns = TurnQueue(engine.stream, kb.ingest, newest_id)
turns.submit(QueuedMessage(TurnRequest(user_id=7, text="Where is ORD-10042?", ...)))
snapshot = turns.wait(since=-1, timeout_s=0.5)   # the live answer, what waits, a version
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Generator
from concurrent.futures import Future
from contextlib import closing, suppress
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Protocol

from core.conversation.turns import (
    Notice,
    TextDelta,
    ToolFinished,
    ToolStarted,
    TurnEvent,
    TurnRequest,
    TurnResult,
)
from core.db.held import HELD_WRITES, HeldWrites
from core.errors import DatabaseAway, EngineError, ObservatoryError

log = logging.getLogger(__name__)

UNEXPECTED = "Something went wrong while reading your message; it was not sent. Try again."

Answer = Callable[[TurnRequest], Generator[TurnEvent, None, None]]
"""Runs one turn: ``ConversationEngine.stream``."""
NewestId = Callable[[str], int]
"""The id of a conversation's newest stored message (0 when it has none)."""
Authorize = Callable[[TurnRequest], None]
"""Raises ``NotAllowed`` when the request's sender may not write in its conversation:
``ConversationEngine.authorize``."""


class Ingest(Protocol):
    """Indexes a file attached to a conversation: ``KnowledgeBase.ingest_attachment``."""

    def __call__(self, filename: str, data: bytes, *, source: str, scope: str) -> object: ...


@dataclass(frozen=True)
class QueuedMessage:
    """One message as sent: the turn to run and the files attached to it (name, bytes)."""

    request: TurnRequest
    files: tuple[tuple[str, bytes], ...] = ()

    @property
    def conversation_id(self) -> str:
        return self.request.conversation_id or ""


@dataclass(frozen=True)
class LiveTurn:
    """The message being answered and its answer so far."""

    message: QueuedMessage
    after_id: int
    """The conversation's newest stored message before this turn: later ones are this turn's."""
    answer: str = ""
    steps: tuple[str, ...] = ()
    """What the tools did, a line each (``Running get_order_status(...)…``, ``… done.``)."""
    notices: tuple[str, ...] = ()
    reading: str | None = None
    """The attached file being indexed before the turn runs."""


@dataclass(frozen=True)
class Finished:
    """A message's outcome: the turn's result, or the sentence saying why it was not answered."""

    message: QueuedMessage
    result: TurnResult | None = None
    error: str | None = None


@dataclass(frozen=True)
class QueueSnapshot:
    """What the page shows: the live turn, the messages waiting behind it, a change counter."""

    version: int
    live: LiveTurn | None
    waiting: tuple[QueuedMessage, ...]
    held: str | None = None
    """Why the first waiting message is held (the app database is away), until it is sent."""

    @property
    def idle(self) -> bool:
        return self.live is None and not self.waiting

    def pending_in(self, conversation_id: str | None) -> bool:
        """Whether a message of the conversation is being answered or waits."""
        live = [self.live.message] if self.live else []
        return any(m.conversation_id == conversation_id for m in (*live, *self.waiting))


@dataclass
class _State:
    version: int = 0
    live: LiveTurn | None = None
    cut: bool = False
    waiting: deque[QueuedMessage] = field(default_factory=deque)
    finished: list[Finished] = field(default_factory=list)
    held: str | None = None


class TurnQueue:
    """Messages of one chat session, answered in order by one worker thread (started on demand,
    gone when nothing waits)."""

    def __init__(
        self,
        answer: Answer,
        ingest: Ingest,
        newest_id: NewestId,
        *,
        authorize: Authorize | None = None,
        held: HeldWrites = HELD_WRITES,
        retry_s: tuple[float, float] = (0.5, 5.0),
    ) -> None:
        """``authorize`` refuses a message its sender may not send; ``held`` counts messages
        waiting for the database; ``retry_s``: first and longest wait between their tries."""
        self._answer = answer
        self._authorize = authorize
        self._held = held
        self._retry_s = retry_s
        self._ingest = ingest
        self._newest_id = newest_id
        self._state = _State()
        self._changed = threading.Condition()
        self._worker: threading.Thread | None = None

    def submit(self, message: QueuedMessage) -> None:
        """Queue ``message`` behind the others; an answer of its conversation that is streaming
        now is cut short. Raises ``NotAllowed`` (nothing queued, no file read) when the sender
        may not write in that conversation."""
        if not message.request.conversation_id:
            raise EngineError("Start the conversation before queueing a message in it.")
        if self._authorize is not None:
            # While the database is away the check waits: the engine checks again when it sends.
            with suppress(DatabaseAway):
                self._authorize(message.request)
        if message.request.request_key is None:
            keyed = replace(message.request, request_key=uuid.uuid4().hex)
            message = replace(message, request=keyed)
        with self._changed:
            state = self._state
            state.waiting.append(message)
            if state.live is not None and state.live.message.conversation_id == (
                message.conversation_id
            ):
                state.cut = True
            self._bump()
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="chat-turns", daemon=True)
                self._worker.start()

    def snapshot(self) -> QueueSnapshot:
        with self._changed:
            return self._snapshot()

    def wait(self, since: int, timeout_s: float) -> QueueSnapshot:
        """The snapshot once its version differs from ``since``, or after ``timeout_s``."""
        with self._changed:
            self._changed.wait_for(lambda: self._state.version != since, timeout=timeout_s)
            return self._snapshot()

    def take_finished(self) -> list[Finished]:
        """Outcomes since the last call, oldest first."""
        with self._changed:
            finished, self._state.finished = self._state.finished, []
            return finished

    def _snapshot(self) -> QueueSnapshot:
        state = self._state
        return QueueSnapshot(state.version, state.live, tuple(state.waiting), state.held)

    def _bump(self) -> None:
        self._state.version += 1
        self._changed.notify_all()

    def _update(self, **changes: Any) -> None:
        with self._changed:
            if self._state.live is not None:
                self._state.live = replace(self._state.live, **changes)
            self._bump()

    def _work(self) -> None:
        wait_s = self._retry_s[0]
        while True:
            with self._changed:
                state = self._state
                if not state.waiting:
                    self._worker = None
                    return
                message = state.waiting[0]
            try:
                after_id = self._newest_id(message.conversation_id)
            except ObservatoryError:
                after_id = 0
            with self._changed:
                state.waiting.popleft()
                state.live, state.cut = LiveTurn(message, after_id), False
                self._bump()
            outcome = self._run(message)
            key = message.request.request_key or ""
            with self._changed:
                state.live = None
                if isinstance(outcome, DatabaseAway):
                    state.waiting.appendleft(message)
                    state.held = str(outcome)
                else:
                    state.held = None
                    state.finished.append(outcome)
                self._bump()
            if isinstance(outcome, DatabaseAway):
                self._held.hold(key)
                time.sleep(wait_s)
                wait_s = min(wait_s * 2, self._retry_s[1])
            else:
                self._held.release(key)
                wait_s = self._retry_s[0]

    def _run(self, message: QueuedMessage) -> Finished | DatabaseAway:
        """The message's outcome, or ``DatabaseAway`` when it must be sent again later."""
        try:
            self._read_files(message)
            return Finished(message, result=self._follow(message.request))
        except DatabaseAway as away:
            return away
        except ObservatoryError as exc:
            return Finished(message, error=str(exc))
        except Exception:
            log.exception("a queued chat message failed")
            return Finished(message, error=UNEXPECTED)

    def _read_files(self, message: QueuedMessage) -> None:
        for name, data in message.files:
            self._update(reading=name)
            done = self._ingest(name, data, source="conversation", scope=message.conversation_id)
            if isinstance(done, Future):  # a large file, indexed beside the answer
                done.add_done_callback(partial(self._tell_refusal, message, name))
        if message.files:
            self._update(reading=None)

    def _tell_refusal(self, message: QueuedMessage, name: str, done: Future[Any]) -> None:
        """A file indexed beside the answer that could not be indexed gets its sentence too."""
        error = done.exception()
        if error is None:
            return
        reason = str(error) if isinstance(error, ObservatoryError) else "it could not be read"
        refused = Finished(message, error=f"{name} was not indexed: {reason}")
        with self._changed:
            self._state.finished.append(refused)
            self._bump()

    def _follow(self, request: TurnRequest) -> TurnResult | None:
        """Run the turn, publishing each event; close it when a newer message cuts it short."""
        with closing(self._answer(request)) as events:
            for event in events:
                self._publish(event)
                if isinstance(event, TurnResult):
                    return event
                if self._state.cut:
                    return None
        return None

    def _publish(self, event: TurnEvent) -> None:
        live = self._state.live
        if live is None:
            return
        match event:
            case TextDelta(text=text):
                self._update(answer=live.answer + text)
            case ToolStarted(name=name, arguments=arguments):
                args = ", ".join(f"{key}={value!r}" for key, value in arguments.items())
                self._update(steps=(*live.steps, f"Running `{name}({args})`…"))
            case ToolFinished(step=step):
                mark = "done" if step.ok else "could not finish"
                self._update(steps=(*live.steps, f"`{step.name}` {mark}."))
            case Notice(text=text):
                self._update(notices=(*live.notices, text))
            case TurnResult():
                if not live.answer:
                    self._update(answer=event.text)
