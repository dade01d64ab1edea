"""Two sessions of one customer writing at once lose nothing: the conversation's cost,
redaction count and flag reasons add up whatever order their writes interleave in."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from core.conversation import history
from core.db import create_db_engine, init_schema
from core.db.models import MessageRole, User
from core.db.models import Role as UserRole

WRITERS = 8
EACH = 10


@pytest.fixture
def db(database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(database_url)
    init_schema(engine)
    yield engine
    engine.dispose()


def _conversation(db: Engine) -> str:
    with history.session(db) as session:
        user = User(name="Ada", email="ada@example.com", role=UserRole.CUSTOMER)
        session.add(user)
        session.commit()
        session.refresh(user)
    return history.start_conversation(db, user.id or 0)


def _at_once(work: Callable[[int], None]) -> None:
    start = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def run(writer: int) -> None:
        start.wait()
        try:
            for step in range(EACH):
                work(writer * EACH + step)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors


@pytest.mark.postgres
def test_concurrent_answers_add_up_to_the_conversations_cost(db: Engine) -> None:
    conversation_id = _conversation(db)

    _at_once(
        lambda n: history.add_message(
            db, conversation_id, MessageRole.ASSISTANT, f"answer {n}", cost_usd=Decimal("0.0013")
        )
    )

    conversation = history.get_conversation(db, conversation_id)
    assert conversation.total_cost_usd == Decimal("0.0013") * WRITERS * EACH
    assert len(history.list_messages(db, conversation_id)) == WRITERS * EACH


@pytest.mark.postgres
def test_concurrent_redactions_and_flags_are_all_counted(db: Engine) -> None:
    conversation_id = _conversation(db)

    def redact_and_flag(n: int) -> None:
        history.count_redactions(db, conversation_id, 1)
        history.flag_conversation(db, conversation_id, f"reason {n % 12}")

    _at_once(redact_and_flag)

    conversation = history.get_conversation(db, conversation_id)
    assert conversation.pii_redactions == WRITERS * EACH
    expected = {"PII redacted", *(f"reason {n}" for n in range(12))}
    assert sorted(conversation.flag_reasons) == sorted(expected)
    assert len(conversation.flag_reasons) == len(expected)
    assert conversation.flagged
