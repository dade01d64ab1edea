"""The help centre's passages for a message that asks several questions.

"Where is my order ORD-10059? And what is your late-delivery policy?" searched as one query
brings passages about orders in general; the late-delivery section may not make the cut. So a
message of several questions is searched whole and question by question, and the hits are
taken in turn from each search (the whole message's first), without repeats, up to as many as
one search returns.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import Protocol

from core.kb.retrieval import SearchHit

_QUESTION_END = re.compile(r"(?<=\?)\s+")
MIN_WORDS = 3
"""A shorter question ("Why?") is searched only as part of the whole message."""


class Searcher(Protocol):
    def search(self, query: str, *, scopes: Sequence[str] | None = None) -> list[SearchHit]: ...


def split_questions(text: str) -> list[str]:
    """The questions ``text`` asks, when it asks more than one; else ``[text]``."""
    asked = [q for q in _QUESTION_END.split(text.strip()) if len(q.split()) >= MIN_WORDS]
    return asked if len(asked) > 1 else [text]


def search_each_question(kb: Searcher, text: str, scopes: Sequence[str]) -> list[SearchHit]:
    """The passages for ``text``: for a message of several questions, those of each question
    in turn with those of the whole message."""
    whole = kb.search(text, scopes=scopes)
    asked = split_questions(text)
    if len(asked) < 2:
        return whole
    searches = [whole, *(kb.search(question, scopes=scopes) for question in asked)]
    merged: dict[tuple[int, int | None, int], SearchHit] = {}
    for hit in itertools.chain.from_iterable(itertools.zip_longest(*searches)):
        if hit is not None:
            merged.setdefault((hit.document_id, hit.page, hit.start), hit)
    return list(merged.values())[: max(map(len, searches))]
