"""One vote per answer and customer: a change updates the vote, the current vote can be read back
(so a reopened conversation shows it), and withdrawing it removes it. SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from core.conversation.feedback import customer_votes, record_feedback, withdraw_feedback
from core.conversation.history import add_message, get_conversation, start_conversation
from core.db import create_db_engine, init_schema
from core.db.models import Feedback, MessageRole, Role, User
from core.errors import NotAllowed


@pytest.fixture
def db(database_url: str) -> Engine:
    engine = create_db_engine(database_url)
    init_schema(engine)
    return engine


def _customer(db: Engine, name: str) -> int:
    with Session(db, expire_on_commit=False) as session:
        user = User(name=name, email=f"{name.lower()}@example.org", role=Role.CUSTOMER)
        session.add(user)
        session.commit()
    return user.id or 0


def _answer(db: Engine, user_id: int) -> tuple[str, int]:
    conversation_id = start_conversation(db, user_id)
    add_message(db, conversation_id, MessageRole.USER, "Do you price match?")
    answer = add_message(db, conversation_id, MessageRole.ASSISTANT, "Yes, within 14 days.")
    return conversation_id, answer.id or 0


def _rows(db: Engine) -> list[tuple[int, int | None, int]]:
    with Session(db) as session:
        rows = session.exec(select(Feedback).order_by(Feedback.id)).all()
        return [(row.message_id, row.user_id, row.score) for row in rows]


def test_changing_a_vote_updates_its_row_instead_of_adding_one(db: Engine) -> None:
    ada = _customer(db, "Ada")
    conversation_id, answer = _answer(db, ada)

    record_feedback(db, answer, 1, user_id=ada)
    record_feedback(db, answer, 1, user_id=ada)
    record_feedback(db, answer, -1, user_id=ada)

    assert _rows(db) == [(answer, ada, -1)]
    assert customer_votes(db, conversation_id, ada) == {answer: -1}
    assert get_conversation(db, conversation_id).flagged


def test_another_customer_cannot_vote_on_an_answer(db: Engine) -> None:
    ada, bo = _customer(db, "Ada"), _customer(db, "Bo")
    conversation_id, answer = _answer(db, ada)

    record_feedback(db, answer, 1, user_id=ada)
    with pytest.raises(NotAllowed, match="another customer"):
        record_feedback(db, answer, -1, user_id=bo)

    assert customer_votes(db, conversation_id, ada) == {answer: 1}
    assert len(_rows(db)) == 1


def test_withdrawing_a_vote_removes_it(db: Engine) -> None:
    ada = _customer(db, "Ada")
    conversation_id, answer = _answer(db, ada)
    record_feedback(db, answer, 1, user_id=ada)

    withdraw_feedback(db, answer, user_id=ada)

    assert _rows(db) == []
    assert customer_votes(db, conversation_id, ada) == {}
