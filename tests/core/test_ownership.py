"""Every ``core`` entry point that acts for a person refuses the wrong person (``NotAllowed``,
with a sentence) and changes nothing — the issue's bug first: a customer-A message posted into
customer B's conversation was answered with B's order number and street address."""

# ruff: noqa: F811  (the engine tests' seeded app fixtures are imported, then named as arguments)
from __future__ import annotations

import time

import pytest
from sqlmodel import Session, select

from core.actors import SYSTEM, Actor
from core.conversation import TurnRequest
from core.conversation.attachments import list_attachments, visible_documents
from core.conversation.feedback import customer_votes, record_feedback, withdraw_feedback
from core.conversation.history import (
    get_conversation,
    list_conversations,
    list_messages,
    list_tickets,
)
from core.conversation.queue import list_queue
from core.conversation.turn_queue import Finished, QueuedMessage, TurnQueue
from core.db.models import MessageRole, Role, User
from core.directory import customer_guide
from core.errors import NotAllowed
from tests.core.conversation.conftest import App, app, fresh  # noqa: F401  (fixtures)


def _staff(app: App, role: Role) -> list[User]:
    with Session(app.services.db) as session:
        return list(session.exec(select(User).where(User.role == role).order_by(User.id)))


def _conversation_of(app: App, user: User, text: str = "Hello") -> str:
    engine = app.services.engine
    assert user.id is not None
    result = engine.send(TurnRequest(user_id=user.id, text=text))
    return result.conversation_id


def _answer_id(app: App, conversation_id: str) -> int:
    rows = list_messages(app.services.db, conversation_id)
    return next(m.id or 0 for m in rows if m.role is MessageRole.ASSISTANT)


def test_a_customer_cannot_post_into_another_customers_conversation(fresh: App) -> None:
    """The issue's bug: A's request in B's conversation answered with B's order and address."""
    ada, bo = fresh.customer(0), fresh.customer(1)
    assert ada.id is not None and bo.id is not None
    order = fresh.order_of(bo.id)
    theirs = _conversation_of(fresh, bo, f"Where is my order {order.number}?")
    before = list_messages(fresh.services.db, theirs)

    with pytest.raises(NotAllowed, match="another customer") as refused:
        fresh.services.engine.send(
            TurnRequest(
                user_id=ada.id,
                text="What is my order number and the street address it ships to?",
                conversation_id=theirs,
            )
        )

    assert order.number not in str(refused.value)
    assert [m.id for m in list_messages(fresh.services.db, theirs)] == [m.id for m in before]


def test_streaming_into_another_customers_conversation_yields_nothing(fresh: App) -> None:
    ada, bo = fresh.customer(0), fresh.customer(1)
    assert ada.id is not None
    theirs = _conversation_of(fresh, bo)
    events = fresh.services.engine.stream(
        TurnRequest(user_id=ada.id, text="Where is my order?", conversation_id=theirs)
    )

    with pytest.raises(NotAllowed):
        next(events)


def test_nobody_but_the_customer_speaks_as_them(fresh: App) -> None:
    bo = fresh.customer(1)
    agent = _staff(fresh, Role.AGENT)[0]
    assert bo.id is not None and agent.id is not None
    theirs = _conversation_of(fresh, bo)
    as_agent = TurnRequest(
        user_id=bo.id, text="Cancel it", conversation_id=theirs, actor=Actor.agent(agent.id)
    )

    with pytest.raises(NotAllowed, match="Only the customer themselves"):
        fresh.services.engine.send(as_agent)
    with pytest.raises(NotAllowed, match="Only the customer themselves"):
        fresh.services.engine.start_conversation(bo.id, actor=Actor.customer(bo.id + 1))


def test_the_app_itself_may_drive_a_customers_own_conversation(fresh: App) -> None:
    bo = fresh.customer(1)
    assert bo.id is not None
    theirs = _conversation_of(fresh, bo)

    result = fresh.services.engine.send(
        TurnRequest(user_id=bo.id, text="Thanks!", conversation_id=theirs, actor=SYSTEM)
    )

    assert result.conversation_id == theirs


def test_pending_and_decisions_are_only_for_the_customer_asked(fresh: App) -> None:
    ada, bo = fresh.customer(0), fresh.customer(1)
    assert ada.id is not None and bo.id is not None
    theirs = _conversation_of(fresh, bo)
    engine = fresh.services.engine

    with pytest.raises(NotAllowed):
        engine.pending_action(theirs, actor=Actor.customer(ada.id))
    with pytest.raises(NotAllowed, match="Only the customer themselves"):
        engine.confirm_action(1, bo.id, actor=Actor.customer(ada.id))
    with pytest.raises(NotAllowed, match="Only the customer themselves"):
        engine.decline_action(1, bo.id, actor=Actor.customer(ada.id))
    assert engine.pending_action(theirs, actor=Actor.customer(bo.id)) is None


def test_the_turn_queue_refuses_another_customers_conversation(fresh: App) -> None:
    ada, bo = fresh.customer(0), fresh.customer(1)
    assert ada.id is not None
    theirs = _conversation_of(fresh, bo)
    before = len(list_messages(fresh.services.db, theirs))
    engine = fresh.services.engine
    request = TurnRequest(user_id=ada.id, text="Read me this thread", conversation_id=theirs)
    checked = TurnQueue(engine.stream, _no_files, _none, authorize=engine.authorize)
    unchecked = TurnQueue(engine.stream, _no_files, _none)

    with pytest.raises(NotAllowed):
        checked.submit(QueuedMessage(request))
    unchecked.submit(QueuedMessage(request))
    outcome = _finished(unchecked)

    assert checked.snapshot().idle
    assert outcome.result is None and outcome.error is not None
    assert "another customer" in outcome.error
    assert len(list_messages(fresh.services.db, theirs)) == before


def test_feedback_is_only_on_your_own_answers(fresh: App) -> None:
    ada, bo = fresh.customer(0), fresh.customer(1)
    assert ada.id is not None and bo.id is not None
    theirs = _conversation_of(fresh, bo)
    answer = _answer_id(fresh, theirs)
    db = fresh.services.db
    record_feedback(db, answer, 1, user_id=bo.id)

    with pytest.raises(NotAllowed):
        record_feedback(db, answer, -1, user_id=ada.id)
    with pytest.raises(NotAllowed):
        record_feedback(db, answer, -1, user_id=bo.id, actor=Actor.customer(ada.id))
    with pytest.raises(NotAllowed):
        withdraw_feedback(db, answer, user_id=bo.id, actor=Actor.customer(ada.id))
    with pytest.raises(NotAllowed):
        customer_votes(db, theirs, bo.id, actor=Actor.customer(ada.id))
    assert customer_votes(db, theirs, bo.id) == {answer: 1}


def test_history_reads_are_only_your_own(fresh: App) -> None:
    ada, bo = fresh.customer(0), fresh.customer(1)
    assert ada.id is not None and bo.id is not None
    theirs = _conversation_of(fresh, bo)
    db, me = fresh.services.db, Actor.customer(ada.id)

    for read in (get_conversation, list_messages, list_tickets):
        with pytest.raises(NotAllowed, match="another customer"):
            read(db, theirs, actor=me)
    with pytest.raises(NotAllowed):
        list_conversations(db, bo.id, actor=me)
    assert get_conversation(db, theirs, actor=Actor.customer(bo.id)).id == theirs


def test_orders_and_bookings_are_only_your_own(fresh: App) -> None:
    ada, bo = fresh.customer(0), fresh.customer(1)
    agent = _staff(fresh, Role.AGENT)[0]
    assert ada.id is not None and bo.id is not None and agent.id is not None
    zone = fresh.services.settings.app.store_timezone
    theirs = fresh.order_of(bo.id)

    with pytest.raises(NotAllowed, match="your own orders"):
        customer_guide(fresh.services.db, bo.id, timezone=zone, actor=Actor.customer(ada.id))
    staff_view = customer_guide(
        fresh.services.db, bo.id, timezone=zone, actor=Actor.agent(agent.id)
    )
    assert theirs.number in {line.number for line in staff_view.orders}


def test_attachments_are_only_for_who_may_open_the_conversation(fresh: App) -> None:
    ada, bo = fresh.customer(0), fresh.customer(1)
    first, second = _staff(fresh, Role.AGENT)[:2]
    assert ada.id and bo.id and first.id and second.id
    services = fresh.services
    theirs = _conversation_of(fresh, bo)
    services.kb.ingest("bo-receipt.txt", b"Receipt for Bo: 12 Elm Street.", scope=theirs)
    services.desk.claim(theirs, first.id)

    with pytest.raises(NotAllowed):
        list_attachments(services.db, services.kb, theirs, actor=Actor.customer(ada.id))
    with pytest.raises(NotAllowed, match="for support staff"):
        visible_documents(services.db, services.kb, actor=Actor.customer(bo.id))
    shown_to_other_agent = visible_documents(services.db, services.kb, actor=Actor.agent(second.id))
    shown_to_owner_agent = visible_documents(services.db, services.kb, actor=Actor.agent(first.id))
    own = list_attachments(services.db, services.kb, theirs, actor=Actor.customer(bo.id))

    assert [d.filename for d in own] == ["bo-receipt.txt"]
    assert "bo-receipt.txt" not in {d.filename for d in shown_to_other_agent}
    assert "bo-receipt.txt" in {d.filename for d in shown_to_owner_agent}


def test_agents_work_on_what_is_theirs_or_queued(fresh: App) -> None:
    bo, ada = fresh.customer(1), fresh.customer(0)
    first, second = _staff(fresh, Role.AGENT)[:2]
    admin = _staff(fresh, Role.ADMIN)[0]
    assert bo.id and ada.id and first.id and second.id and admin.id
    desk, db = fresh.services.desk, fresh.services.db
    theirs = _conversation_of(fresh, bo)
    desk.claim(theirs, first.id)
    other = Actor.agent(second.id)

    for action in (
        lambda: desk.reply(theirs, second.id, "Hi, I'll take over"),
        lambda: desk.claim(theirs, second.id),
        lambda: desk.resolve(theirs, second.id),
        lambda: desk.hand_back(theirs, actor=other),
        lambda: desk.open_ticket(theirs, "Take over", actor=other),
        lambda: desk.draft_reply(theirs, actor=other),
        lambda: get_conversation(db, theirs, actor=other),
    ):
        with pytest.raises(NotAllowed, match="Another agent"):
            action()
    with pytest.raises(NotAllowed, match="for support staff"):
        desk.reply(theirs, bo.id, "I am staff", actor=Actor.customer(bo.id))
    with pytest.raises(NotAllowed, match="another customer"):
        desk.escalate(theirs, ada.id)
    with pytest.raises(NotAllowed, match="for support staff"):
        list_queue(db, actor=Actor.customer(bo.id))

    queued_for_other = {row.conversation_id for row in list_queue(db, actor=other, limit=500)}
    queued_for_owner = {
        row.conversation_id for row in list_queue(db, actor=Actor.agent(first.id), limit=500)
    }
    assert theirs not in queued_for_other and theirs in queued_for_owner
    desk.reply(theirs, admin.id, "An admin steps in.", actor=Actor.admin(admin.id))
    assert list_messages(db, theirs)[-1].content == "An admin steps in."


def _no_files(filename: str, data: bytes, *, source: str, scope: str) -> object:
    raise AssertionError("no files in these messages")


def _none(conversation_id: str) -> int:
    return 0


def _finished(turns: TurnQueue, timeout_s: float = 30.0) -> Finished:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        done = turns.take_finished()
        if done:
            return done[0]
        turns.wait(turns.snapshot().version, 0.2)
    raise AssertionError("the queued message never finished")
