"""Pages pass who is acting to every ``core`` call that reads or writes for a person: the
defaults of those calls are the app itself (``SYSTEM``), which a page must never be."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted((ROOT / "pages").rglob("*.py"))
FOR_A_PERSON = {
    "claim",
    "confirm_action",
    "customer_guide",
    "customer_votes",
    "decline_action",
    "draft_reply",
    "escalate",
    "get_conversation",
    "hand_back",
    "list_attachments",
    "list_conversations",
    "list_messages",
    "list_queue",
    "list_tickets",
    "open_ticket",
    "pending_action",
    "record_feedback",
    "reply",
    "resolve",
    "start_conversation",
    "visible_documents",
    "withdraw_feedback",
}


def calls_without_actor(source: str) -> list[str]:
    """``name:line`` of each call to one of ``FOR_A_PERSON`` that names no ``actor``."""
    missing = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        function = node.func
        name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
        if name in FOR_A_PERSON and not any(k.arg == "actor" for k in node.keywords):
            missing.append(f"{name}:{node.lineno}")
    return missing


def test_the_check_sees_a_call_without_actor() -> None:
    source = "list_messages(db, cid)\nlist_messages(db, cid, actor=me)\ndesk.reply(c, 1, 'x')\n"

    assert calls_without_actor(source) == ["list_messages:1", "reply:3"]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_page_says_who_is_acting(page: Path) -> None:
    assert calls_without_actor(page.read_text()) == []
