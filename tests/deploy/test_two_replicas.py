"""Two ``streamlit run app.py`` processes on one PostgreSQL and one Redis, as two replicas behind
a load balancer would run: the same customer chats on both at once; every message is stored
exactly once, and the rate limit is one allowance shared by both (Redis), not one per replica."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.e2e.conftest import new_tab, offline_env, serve_app

pytestmark = pytest.mark.browser

BURST = 3
PER_REPLICA = 4
CHAT_BOX = "Ask about an order, a return, an appointment…"


def test_two_replicas_lose_nothing_duplicate_nothing_and_share_the_rate_limit(
    browser: Any, postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    shared = {
        "DATABASE_URL": postgres_url,
        "REDIS_URL": redis_url,
        "API__JWT_SECRET": "replicas-share-this-token-key-0123456789",
        "SIMULATOR_SPEED": "0",
        "ENGINE__RATE_LIMIT_BURST": str(BURST),
        "ENGINE__RATE_LIMIT_PER_MINUTE": "1",
    }
    a_env = offline_env(tmp_path / "a", **shared)
    b_env = offline_env(tmp_path / "b", **shared)
    with serve_app(a_env, tmp_path / "a.log") as a_url:
        a_tab = _chat(browser, a_url)  # the first start loads the demo data; B finds it there
        with serve_app(b_env, tmp_path / "b.log") as b_url:
            b_tab = _chat(browser, b_url)
            sent = []
            for n in range(1, PER_REPLICA + 1):
                for name, tab in (("A", a_tab), ("B", b_tab)):
                    text = f"Replica {name}, message {n}: what is your return window?"
                    _send(tab, text)
                    sent.append(text)
            rows = _settled(postgres_url, len(sent))
            health = [httpx.get(f"{url}/health", timeout=10).json() for url in (a_url, b_url)]
            for tab in (a_tab, b_tab):
                assert tab.locator('[data-testid="stException"]').count() == 0
                tab.context.close()

    asked = [content for role, content, _ in rows if role == "user"]
    # Every turn the limiter let through stored an answer (one cut short by the next message
    # too, marked so); a refused turn stored none.
    answered = [content for role, content, _ in rows if role == "assistant"]
    assert sorted(asked) == sorted(sent)  # each message once, none lost
    assert BURST <= len(answered) <= BURST + 1  # one allowance (+1 refill at most), not two
    assert len(answered) < 2 * min(BURST, PER_REPLICA)
    assert [h["status"] for h in health] == ["ok", "ok"]


def _chat(browser: Any, url: str) -> Any:
    from playwright.sync_api import expect

    tab = new_tab(browser, url)
    expect(tab.get_by_text("What the demo contains")).to_be_visible(timeout=300_000)
    tab.get_by_role("link", name="Customer chat").click()
    expect(tab.get_by_placeholder(CHAT_BOX)).to_be_visible(timeout=120_000)
    return tab


def _send(tab: Any, text: str) -> None:
    from playwright.sync_api import expect

    box = tab.get_by_placeholder(CHAT_BOX)
    box.fill(text)
    box.press("Enter")
    expect(tab.get_by_text(text).first).to_be_visible()


def _settled(
    postgres_url: str, expected: int, timeout_s: float = 240
) -> list[tuple[str, str, Any]]:
    """The replicas' chat rows once every message is stored and no answer came for 5 s."""
    deadline = time.monotonic() + timeout_s
    last: list[tuple[str, str, Any]] = []
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        rows = _rows(postgres_url)
        if rows != last:
            last, quiet_since = rows, time.monotonic()
        asked = sum(1 for role, _, _ in rows if role == "user")
        if asked >= expected and time.monotonic() - quiet_since > 5:
            return rows
        time.sleep(0.5)
    raise AssertionError(f"the replicas did not settle: {last}")


def _rows(postgres_url: str) -> list[tuple[str, str, Any]]:
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(plain) as conn:
        found = conn.execute(
            "SELECT lower(m.role::text), m.content, m.error FROM messages m "
            "JOIN conversations c ON c.id = m.conversation_id "
            "WHERE c.id IN (SELECT conversation_id FROM messages WHERE content LIKE 'Replica %') "
            "ORDER BY m.id"
        ).fetchall()
    return [(role, content, error) for role, content, error in found]
