"""The app database goes away while customers send messages (PostgreSQL behind a proxy the test
cuts): nobody gets an exception, the chat says so in one sentence, and once the database is back
every message is stored exactly once and answered."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from core.conversation import TurnRequest, TurnStatus
from core.conversation.engine import HELD
from core.conversation.turn_queue import Finished, QueuedMessage, TurnQueue
from core.db import create_db_engine, init_schema
from core.db.held import HeldWrites
from core.db.models import Role, User
from core.services import Services, create_services
from core.settings import DatabaseSettings
from tests.core.conversation.conftest import build_settings
from tests.tcp_proxy import TcpProxy

CUT_S = 4.0
MESSAGES = 8


@pytest.fixture
def proxied(postgres_url: str, tmp_path: Path) -> Iterator[tuple[Services, TcpProxy]]:
    """The app's services on a fresh PostgreSQL database reached through a proxy."""
    url = make_url(postgres_url)
    with TcpProxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        through = url.set(host="127.0.0.1", port=proxy.port).render_as_string(False)
        # An allowance of exactly the eight messages sent: a message tried again while the
        # database is away must not spend more than one.
        settings = build_settings(
            tmp_path,
            rate_limit_burst=MESSAGES,
            rate_limit_per_minute=1,
            storage_attempts=3,
            storage_retry_s=0.1,
        ).model_copy(update={"database": DatabaseSettings(url=through)})
        db = create_db_engine(through)
        init_schema(db)
        services = create_services(settings, db)
        try:
            yield services, proxy
        finally:
            services.close()
            db.dispose()


def test_messages_sent_while_the_database_is_away_are_stored_once_it_is_back(
    proxied: tuple[Services, TcpProxy], postgres_url: str
) -> None:
    services, proxy = proxied
    customer = _customer(services)
    engine = services.engine
    held = HeldWrites()
    turns = TurnQueue(
        engine.stream,
        services.kb.ingest_attachment,
        lambda _: 0,
        authorize=engine.authorize,
        held=held,
        retry_s=(0.2, 1.0),
    )
    conversation = engine.start_conversation(customer)
    texts = [f"Message {n}: where is my parcel?" for n in range(1, MESSAGES + 1)]
    turns.submit(QueuedMessage(_ask(customer, conversation, texts[0])))
    finished = _until_idle(turns)

    proxy.cut()
    seen_held: set[str | None] = set()
    for text in texts[1:6]:
        turns.submit(QueuedMessage(_ask(customer, conversation, text)))
        seen_held.add(turns.wait(-1, CUT_S / 5).held)
    time.sleep(CUT_S / 5)
    seen_held.add(turns.snapshot().held)
    waiting_while_away = len(turns.snapshot().waiting)
    proxy.restore()
    for text in texts[6:]:
        turns.submit(QueuedMessage(_ask(customer, conversation, text)))
    finished += _until_idle(turns)

    stored = _stored_user_messages(postgres_url, conversation)
    assert proxy.refused > 0
    assert HELD in seen_held
    assert waiting_while_away >= 4
    assert stored == texts
    assert [f.error for f in finished] == [None] * len(texts)
    assert [f.result.status if f.result else None for f in finished] == [
        TurnStatus.ANSWERED
    ] * MESSAGES
    assert held.counts().held == 0
    assert held.counts().stored_after_wait == held.counts().held_total >= 1
    assert turns.snapshot().held is None


def _ask(customer: int, conversation: str, text: str) -> TurnRequest:
    return TurnRequest(user_id=customer, text=text, conversation_id=conversation)


def _customer(services: Services) -> int:
    from sqlmodel import Session

    user = User(name="Ada Outage", email="ada.outage@example.com", role=Role.CUSTOMER)
    with Session(services.db, expire_on_commit=False) as session:
        session.add(user)
        session.commit()
    assert user.id is not None
    return user.id


def _until_idle(turns: TurnQueue, timeout_s: float = 120.0) -> list[Finished]:
    finished: list[Finished] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        snapshot = turns.wait(-1, 0.2)
        finished += turns.take_finished()
        if snapshot.idle:
            return finished + turns.take_finished()
    raise AssertionError(f"the queue never emptied: {turns.snapshot()}")


def _stored_user_messages(postgres_url: str, conversation: str) -> list[str]:
    """Read straight from PostgreSQL, not through the proxy."""
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(plain) as conn:
        rows = conn.execute(
            "SELECT content FROM messages WHERE conversation_id = %s "
            "AND role::text IN ('USER', 'user') ORDER BY id",
            (conversation,),
        ).fetchall()
    return [row[0] for row in rows]
