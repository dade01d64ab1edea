"""Deciding whether the user's words call for one of the offered tools, and with what arguments.

For the shop's kinds of tool (an order lookup, a cancellation, booking, moving a booking, free
slots, a ticket for a person) the message's meaning decides (``meaning.classify``): a question
about a policy calls nothing even when it mentions orders or appointments, and a change is made
only when this message asks for it in so many words (``meaning.asks_to_change``). Any other tool
is matched generically: its name and description are compared with the user's last message
(words, prefixes and a few synonyms), so a tool the simulator has never seen still gets called
when its description fits. Arguments come from the tool's JSON schema property names
(``order_number`` ← ``ORD-10042``, ``date`` ← "next Tuesday" as ISO, …), read by ``values``.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from core.simulator.extract import find_date
from core.simulator.meaning import CHANGES, Intent, asks_to_change, classify
from core.simulator.meant import split_parts
from core.simulator.messages import Role, SimRequest, ToolDef, ToolUse
from core.simulator.values import SYNONYMS, TextContext, fill_object, value_for
from core.simulator.words import STOPWORDS

ANY_TOOL = "*"
"""``forced_tool`` meaning "call some tool" (OpenAI ``required``, Claude ``any``)."""
MIN_SCORE = 2.0
_GENERIC = (
    STOPWORDS
    | {"set", "look", "find", "check", "get", "given", "user", "customer", "customers", "tool"}
    | {"function", "returns", "return", "id"}
)
_IDENTIFIER_ARGUMENT = re.compile(r"order|booking|reservation|date|start", re.IGNORECASE)
_GREETING = re.compile(r"^\s*(hi|hello|hey|good (morning|afternoon|evening))\b[\s!.,]*$", re.I)
_EXTRA_CUES = {
    "move": ("reschedule", "change", "different time", "another time", "instead"),
    "reschedule": ("move", "change", "another time", "different time"),
    "availability": ("available", "free", "slot", "openings", "any time", "when can"),
    "ticket": ("human", "agent", "person", "complaint", "escalate", "speak to", "talk to"),
    "agent": ("human", "person", "someone", "speak to", "talk to"),
    "status": ("where", "track", "arrive", "late", "shipped", "update on"),
}


@dataclass(frozen=True)
class ToolDecision:
    """The tool calls to make, a question asking for what is missing, or the earlier result
    of the same call (already in the conversation, so not made again)."""

    calls: tuple[ToolUse, ...] = ()
    question: str = ""
    earlier_result: tuple[str, str] | None = None


def decide_tool_call(request: SimRequest, today: date, rng: random.Random) -> ToolDecision | None:
    """The tool call the user's last message asks for, a question for a missing argument, or
    None when no tool fits (or the tools have already answered since the user last spoke)."""
    if not request.tools or (request.tool_results() and request.forced_tool is None):
        return None
    user_text = request.last_user_text()
    context = TextContext(text=_user_words(request), focus=user_text, today=today)
    tool = _forced(request) or _choose(request.tools, context)
    if tool is None:
        return None
    arguments = tool_arguments(tool, context, placeholders=request.forced_tool is not None)
    missing = [name for name in tool.parameters.get("required", ()) if name not in arguments]
    if missing:
        return ToolDecision(question=_ask_for(missing))
    earlier = _earlier_result(request, tool.name, arguments)
    if earlier is not None and request.forced_tool is None:
        return ToolDecision(earlier_result=(tool.name, earlier))
    return ToolDecision(calls=(ToolUse(new_call_id(rng), tool.name, arguments),))


def score_tool(tool: ToolDef, text: str) -> float:
    """How well ``text`` matches the tool: name words count double, description words once,
    synonyms of either once."""
    said = _stems(text)
    lowered = f" {text.lower()} "
    name_words = _content_words(tool.name)
    description_words = _content_words(tool.description) - name_words
    score = 2.0 * len(_stems(" ".join(name_words)) & said)
    score += len(_stems(" ".join(description_words)) & said)
    for word in name_words | description_words:
        cues = (*SYNONYMS.get(word, ()), *_EXTRA_CUES.get(word, ()))
        score += 0.5 * sum(1 for cue in cues if _mentions(lowered, cue))
    return score


def _mentions(lowered: str, cue: str) -> bool:
    """``cue`` as a word or its inflection ("agents", "tracking"), not inside another word:
    "person" is not in "personal"."""
    tail = r"(?:s|es|d|ed|ing)?(?![a-z])" if cue[-1:].isalpha() else ""
    return re.search(rf"(?<![a-z]){re.escape(cue)}{tail}", lowered) is not None


def _forced(request: SimRequest) -> ToolDef | None:
    if request.forced_tool is None:
        return None
    if request.forced_tool == ANY_TOOL:
        scored = sorted(request.tools, key=lambda t: -score_tool(t, request.last_user_text()))
        return scored[0]
    return next((tool for tool in request.tools if tool.name == request.forced_tool), None)


_KINDS: tuple[tuple[Intent, re.Pattern[str]], ...] = (
    (Intent.CANCEL_ORDER, re.compile(r"cancel", re.I)),
    (Intent.RESCHEDULE, re.compile(r"reschedul|move", re.I)),
    (Intent.BOOK, re.compile(r"^book|reserve", re.I)),
    (Intent.AVAILABILITY, re.compile(r"availab|slots|openings", re.I)),
    (Intent.HUMAN, re.compile(r"ticket|escalat|human|hand_?off", re.I)),
    (
        Intent.ORDER_STATUS,
        re.compile(r"order.*(status|track|get|look)|(status|track|get).*order", re.I),
    ),
)
"""The shop's kinds of tool, recognised by name."""


def kind_of(tool: ToolDef) -> Intent | None:
    """What a tool does, when it is one of the shop's kinds; None for any other tool."""
    return next((intent for intent, name in _KINDS if name.search(tool.name)), None)


def _choose(tools: tuple[ToolDef, ...], context: TextContext) -> ToolDef | None:
    """The tool the last message asks for: by meaning for the shop's kinds of tool, by the
    words of its description for any other."""
    matched = _best_match(tools, context)
    if matched is not None and kind_of(matched) is None:
        return matched
    text = context.focus
    if not text.strip() or _GREETING.match(text):
        return None
    intent = _intent_of(text)
    if intent in CHANGES and not asks_to_change(intent, text):
        intent = _read_only_instead(intent, context)
    return next((tool for tool in tools if kind_of(tool) is intent), None)


def _intent_of(text: str) -> Intent:
    """What the message asks for; for a message of several parts ("Can you check ORD-10042?
    What's your late-delivery policy?"), what its first part asking for more than information
    asks for (the help-centre parts are answered alongside the tool's result)."""
    parts = split_parts(text)
    if len(parts) < 2:
        return classify(text)
    asks = (classify(part) for part in parts)
    return next((intent for intent in asks if intent is not Intent.INFORMATION), Intent.INFORMATION)


def _read_only_instead(intent: Intent, context: TextContext) -> Intent:
    """What to look up when a change is not asked for in so many words: a day's free times
    when the message is about an appointment on a given day ("a slot tomorrow?"), else
    nothing (the help centre answers)."""
    if intent in (Intent.BOOK, Intent.RESCHEDULE) and find_date(context.focus, context.today):
        return Intent.AVAILABILITY
    return Intent.INFORMATION


def _best_match(tools: tuple[ToolDef, ...], context: TextContext) -> ToolDef | None:
    text = context.focus
    if not text.strip() or _GREETING.match(text):
        return None
    scored = [
        (score_tool(tool, text) + _evidence_bonus(tool, context), index, tool)
        for index, tool in enumerate(tools)
    ]
    best_score, _, best = max(scored, key=lambda item: (item[0], -item[1]))
    return best if best_score >= MIN_SCORE else None


def _evidence_bonus(tool: ToolDef, context: TextContext) -> float:
    """One point per identifier-like argument (order number, booking, date) the message gives."""
    bonus = 0.0
    for name, schema in tool.parameters.get("properties", {}).items():
        if _IDENTIFIER_ARGUMENT.search(name) and value_for(name, schema, context) is not None:
            bonus += 1.0
    return bonus


def tool_arguments(
    tool: ToolDef, context: TextContext, *, placeholders: bool = False
) -> dict[str, Any]:
    """Arguments for ``tool`` read from ``context``; with ``placeholders`` every required one is
    filled (a forced call must be made), else only those the text gives."""
    if placeholders:
        return fill_object(tool.parameters, context)
    arguments: dict[str, Any] = {}
    for name, schema in tool.parameters.get("properties", {}).items():
        value = value_for(name, schema, context)
        if value is not None and value != "":
            arguments[name] = value
    return arguments


def new_call_id(rng: random.Random) -> str:
    """A fresh tool-call id, reproducible for the same ``rng``."""
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(24))


def _earlier_result(request: SimRequest, name: str, arguments: dict[str, Any]) -> str | None:
    results = {turn.tool_use_id: turn.text for turn in request.turns if turn.role is Role.TOOL}
    wanted = json.dumps(arguments, sort_keys=True)
    for turn in request.turns:
        for use in turn.tool_uses:
            same = use.name == name and json.dumps(use.arguments, sort_keys=True) == wanted
            if same and use.id in results:
                return results[use.id]
    return None


def _ask_for(missing: list[str]) -> str:
    wanted = [name.replace("_", " ") for name in missing]
    if any("order" in name for name in wanted):
        return (
            "I can look into that for you. Could you share your order number? "
            "It starts with ORD- and is in your confirmation e-mail (for example ORD-10001)."
        )
    listed = " and ".join(wanted)
    return f"I can help with that. Could you tell me the {listed}?"


def _user_words(request: SimRequest) -> str:
    return "\n".join(turn.text for turn in request.turns if turn.role is Role.USER)


def _content_words(text: str) -> set[str]:
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)
    words = re.findall(r"[a-z]+", spaced.lower())
    return {word for word in words if len(word) > 2 and word not in _GENERIC}


def _stems(text: str) -> set[str]:
    return {word[:5] for word in _content_words(text)}
