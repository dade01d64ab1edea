"""A good model's next step after a tool refused: the call the error suggests, once per turn.

When a tool result since the customer last spoke is an error naming another offered tool ("There
is no free bike service slot at … Call check_availability for that day …"), the simulated model
makes that call, with arguments read from the error, the refused call and the customer's words.
Each tool is suggested at most once per customer turn: a tool already called since the customer
last spoke is never suggested again, so recovery cannot loop (the engine bounds tool rounds too).
Otherwise the reply explains the error in the customer's terms (``tool_answers``).
"""

from __future__ import annotations

import json
import random
from datetime import date

from core.simulator.intents import new_call_id, tool_arguments
from core.simulator.messages import Role, SimRequest, ToolUse
from core.simulator.tool_errors import error_in, read_error
from core.simulator.values import TextContext


def follow_up_call(request: SimRequest, today: date, rng: random.Random) -> ToolUse | None:
    """The tool call a refused tool call suggests, or None when there is none left to make."""
    offered = {tool.name: tool for tool in request.tools}
    exchanges = _exchanges_since_user(request)
    called = {use.name for use, _ in exchanges}
    user_words = "\n".join(turn.text for turn in request.turns if turn.role is Role.USER)
    for use, result in exchanges:
        message = error_in(result)
        if message is None:
            continue
        for name in read_error(message, offered).suggested_tools:
            if name in called:
                continue
            refused = json.dumps(use.arguments, ensure_ascii=False)
            focus = f"{message}\n{refused}"
            context = TextContext(text=f"{focus}\n{user_words}", focus=focus, today=today)
            tool = offered[name]
            arguments = tool_arguments(tool, context)
            if all(key in arguments for key in tool.parameters.get("required", ())):
                return ToolUse(new_call_id(rng), name, arguments)
    return None


def _exchanges_since_user(request: SimRequest) -> list[tuple[ToolUse, str]]:
    """(call, result text) for every tool call answered since the customer last spoke."""
    results = {turn.tool_use_id: turn.text for turn in request.turns if turn.role is Role.TOOL}
    exchanges: list[tuple[ToolUse, str]] = []
    for turn in reversed(request.turns):
        if turn.role is Role.USER:
            break
        exchanges[:0] = [(use, results[use.id]) for use in turn.tool_uses if use.id in results]
    return exchanges
