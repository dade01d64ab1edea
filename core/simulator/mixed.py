"""The help-centre half of a message that also asks for a tool.

"Where is my order ORD-10059? And what is your late-delivery policy?" asks two things: the
order's status (a tool answers it) and a policy (the ``<sources>`` passages answer it). Each
part of the message (``meant.split_parts``) is read by meaning (``meaning.classify``); the
parts that ask for information get a cited answer of their own, so neither half is dropped.
"""

from __future__ import annotations

from core.simulator.cited import compose_cited_answer
from core.simulator.meaning import Intent, classify
from core.simulator.meant import split_parts
from core.simulator.sources import Source

NOT_FOUND = "Our help centre doesn't say anything about {part}, so I won't guess."


def information_parts(text: str) -> list[str]:
    """The parts of a message of several parts that ask for information; none for a message
    of one part (it is either the tool's or the help centre's, whole)."""
    parts = split_parts(text)
    if len(parts) < 2:
        return []
    asks = [classify(part) for part in parts]
    if all(intent is Intent.INFORMATION for intent in asks):
        return []
    return [part for part, intent in zip(parts, asks, strict=True) if intent is Intent.INFORMATION]


def answer_other_parts(text: str, sources: list[Source]) -> str:
    """Cited answers to the information parts of ``text``, one after another; empty when it
    has none."""
    answers = []
    for part in information_parts(text):
        answer = compose_cited_answer(part, sources)
        answers.append(answer if answer is not None else NOT_FOUND.format(part=_asked(part)))
    return " ".join(answers)


def _asked(part: str) -> str:
    """The part as a clause: "what is your late-delivery policy"."""
    words = part.strip(" ?.!").split()
    if words and words[0].lower() in {"and", "also", "plus", "but"}:
        words = words[1:]
    return f'"{" ".join(words)}"'
