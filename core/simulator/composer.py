"""Composing the simulated model's reply from what the request carries.

In order: a forced tool call; JSON mode / structured output; a summary when one is asked for (of
the attached document, the text given or the conversation); the call a refused tool suggests
(``recovery``), else an answer from tool results; a tool call when the user's words match an
offered tool (an answer from tools, or a question for a missing argument, is followed by cited
answers to the message's other, help-centre parts: ``mixed``); a greeting; a recap of the
conversation or a summary of the document when that is what the message means; an answer quoting
and citing the ``<sources>`` passages; otherwise an honest "I don't have that information" with
an offer of a human. The same request and ``rng`` give the same reply.
"""

from __future__ import annotations

import json
import random
import re
from datetime import date

from core.simulator.cited import compose_cited_answer
from core.simulator.extract import find_today
from core.simulator.intents import decide_tool_call
from core.simulator.meaning import Intent, classify
from core.simulator.messages import Reply, SimRequest
from core.simulator.mixed import answer_other_parts
from core.simulator.recovery import follow_up_call
from core.simulator.sources import parse_sources
from core.simulator.structured import compose_json
from core.simulator.summarise import is_summary_request, recap_conversation, summarise_request
from core.simulator.tool_answers import describe_tool_result
from core.tokens import count_tokens

_GREETING = re.compile(
    r"^\s*(hi|hello|hey|hiya|good (morning|afternoon|evening)|greetings)\b[\s!.,]*"
    r"(there|team|northwind)?[\s!.,]*$",
    re.IGNORECASE,
)
_THANKS = re.compile(r"^\s*(thanks|thank you|cheers|great,? thanks)\b[^?]*$", re.IGNORECASE)
_OPENERS = ("", "Good question. ", "Happy to help. ", "Thanks for asking. ")
_CLOSERS = (
    "",
    "Is there anything else I can help with?",
    "Let me know if you have any other questions.",
)
_HUMAN_OFFER = (
    "Our live agents are available Monday–Friday 8:00–20:00 ET and Saturday 9:00–17:00 ET "
    "if you'd like me to connect you."
)


def compose_reply(request: SimRequest, *, today: date, rng: random.Random) -> Reply:
    """The reply a helpful support model would give to ``request``, deterministic for ``rng``.

    Relative dates ("next Tuesday") count from the date the system prompt gives as today, if
    any, else from ``today``.
    """
    today = find_today(request.system) or today
    if request.forced_tool is not None:
        decision = decide_tool_call(request, today, rng)
        if decision is not None and decision.calls:
            return Reply(tool_uses=decision.calls)
    if request.wants_json:
        return _limit(request, json.dumps(compose_json(request, today), ensure_ascii=False))
    if is_summary_request(request):
        return _limit(request, summarise_request(request))
    results = request.tool_results()
    if results:
        follow_up = follow_up_call(request, today, rng)
        if follow_up is not None:
            return Reply(tool_uses=(follow_up,))
        return _limit(request, _answer_from_tools(request, results, rng))
    decision = decide_tool_call(request, today, rng)
    if decision is not None and decision.earlier_result is not None:
        return _limit(request, _answer_from_tools(request, [decision.earlier_result], rng))
    if decision is not None and decision.calls:
        return Reply(tool_uses=decision.calls)
    if decision is not None:
        return _limit(request, _with_other_parts(request, decision.question))
    return _limit(request, _answer_text(request, rng))


def _answer_text(request: SimRequest, rng: random.Random) -> str:
    question = request.last_user_text()
    if _GREETING.match(question):
        return rng.choice(
            (
                "Hello! Thanks for contacting Northwind Outfitters. How can I help you today?",
                "Hi there! I'm the Northwind Outfitters assistant. What can I help you with?",
            )
        )
    if _THANKS.match(question):
        return "You're welcome! Is there anything else I can help you with?"
    intent = classify(question)
    if intent is Intent.RECAP:
        return recap_conversation(request)
    if intent is Intent.SUMMARY:
        return summarise_request(request)
    answer = compose_cited_answer(question, parse_sources(request.system))
    if answer is not None:
        return _polite(answer, rng)
    return (
        "I'm sorry, I don't have information about that in our help centre, so I don't want to "
        f"guess. {_HUMAN_OFFER}"
    )


def _polite(answer: str, rng: random.Random) -> str:
    opener = rng.choice(_OPENERS)
    return opener + _with_closer(answer, rng)


def _with_closer(answer: str, rng: random.Random) -> str:
    """``answer`` and, maybe, an offer of more help: after a blank line when it ends a list."""
    closer = rng.choice(_CLOSERS)
    if not closer:
        return answer
    separator = "\n\n" if "\n" in answer else " "
    return f"{answer}{separator}{closer}"


def _answer_from_tools(
    request: SimRequest, results: list[tuple[str, str]], rng: random.Random
) -> str:
    said = dict.fromkeys(describe_tool_result(name, text) for name, text in results)
    return _with_closer(_with_other_parts(request, " ".join(said)), rng)


def _with_other_parts(request: SimRequest, answer: str) -> str:
    """``answer`` (to the part a tool answers or asks about) followed by the cited answers to
    the message's parts that ask the help centre."""
    others = answer_other_parts(request.last_user_text(), parse_sources(request.system))
    return f"{answer}\n\n{others}" if others else answer


def _limit(request: SimRequest, text: str) -> Reply:
    if request.max_tokens is None or count_tokens(text, request.model) <= request.max_tokens:
        return Reply(text=text)
    words = text.split(" ")
    low, high = 0, len(words)
    while low < high:
        middle = (low + high + 1) // 2
        if count_tokens(" ".join(words[:middle]), request.model) <= request.max_tokens:
            low = middle
        else:
            high = middle - 1
    return Reply(text=" ".join(words[:low]), truncated=True)
