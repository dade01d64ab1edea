"""Reading a tool's error as a model does: what the customer may hear, what is meant for the model.

Tools answer ``{"error": "..."}`` in words written for the model: a fact ("There is no free bike
service slot at 2026-11-26T10:00-08:00 at the Seattle store."), often followed by an instruction
("Call check_availability for that day and offer the customer one of the free times.", "ask for a
date from today on", "send it as YYYY-MM-DD"). ``read_error`` sorts the clauses into facts the
customer may hear, questions to put to them, and the tools the error suggests calling.
Instructions, and anything naming a tool or an argument (``snake_case``), never reach the customer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

_CLAUSE_END = re.compile(r";\s+|(?<=[.!?])\s+(?=[A-Z'\"])")
_IDENTIFIER = re.compile(r"\b[a-z]+_[a-z0-9_]+\b|\btools?\b")
_NOTE_VERBS = frozenset(
    {"call", "send", "use", "retry", "look", "try", "do", "don't", "check", "offer", "tell"}
    | {"give", "provide", "nothing"}
)
"""First words of clauses that instruct the model ("do not retry it", "nothing more to do")."""
_CUSTOMER_VERBS = frozenset({"choose", "pick"})
"""First words of instructions the customer can follow ("choose a later time")."""
_ASK_FOR = re.compile(r"^ask\s+(?:the customer\s+|them\s+)?for\s+(.+)$", re.IGNORECASE)


@dataclass(frozen=True)
class ErrorReading:
    """A tool error sorted for the customer and for the model."""

    facts: tuple[str, ...]
    """What went wrong, in the tool's words, each without its final full stop."""
    questions: tuple[str, ...]
    """What to ask the customer ("Could you give me a date from today on?")."""
    suggested_tools: tuple[str, ...]
    """Tools of ``tool_names`` the error says to call."""


def error_of(data: Mapping[str, Any]) -> str | None:
    """The error a parsed tool result reports, or None when the tool succeeded."""
    failed = bool(data.get("error")) or data.get("ok") is False or data.get("success") is False
    if not failed:
        return None
    reason = next(
        (data[key] for key in ("error", "message", "reason", "detail") if data.get(key)), None
    )
    return str(reason) if reason else "the request was refused"


def error_in(result: str) -> str | None:
    """The error a tool result's JSON text reports, or None when it succeeded or is not JSON."""
    try:
        data = json.loads(result)
    except (TypeError, ValueError):
        return None
    return error_of(data) if isinstance(data, Mapping) else None


def read_error(message: str, tool_names: Iterable[str] = ()) -> ErrorReading:
    """``message`` sorted into facts, questions for the customer and suggested tools."""
    names = tuple(tool_names)
    facts: list[str] = []
    questions: list[str] = []
    suggested: list[str] = []
    for clause in _clauses(message):
        named = [name for name in names if re.search(rf"\b{re.escape(name)}\b", clause)]
        suggested.extend(name for name in named if name not in suggested)
        first = clause.split()[0].lower()
        if named or _IDENTIFIER.search(clause) or first in _NOTE_VERBS:
            continue
        if ask := _ASK_FOR.match(clause):
            questions.append(f"Could you give me {ask.group(1)}?")
        elif first in _CUSTOMER_VERBS:
            questions.append(f"Could you {clause[0].lower()}{clause[1:]}?")
        else:
            facts.append(clause)
    return ErrorReading(tuple(facts), tuple(questions), tuple(suggested))


def _clauses(message: str) -> list[str]:
    pieces = (piece.strip().rstrip(".!").strip() for piece in _CLAUSE_END.split(message))
    return [piece for piece in pieces if piece]
