"""Reading a customer's question: what it is about, what it asks for, and its parts.

What it is about: its content words, with the help-centre words for everyday phrases added
("send back" → return, "money back" → refund); "how long", "how much" and "take" say what is
asked, not what about. What it asks for (``Ask``): an amount, a duration, opening hours
(times of day: "Mon–Fri 8:00–20:00"), steps or a list,
from cues such as "how much", "when", "how do I", "which", and for a list what is to be listed
("Which payment methods…"). Its parts: the questions in it and their halves joined by "and" or
"or" ("Is that covered, and how do I claim it?" has two), each read as a question of its own;
statements around them ("I returned a jacket last week") count for the whole question only.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, replace
from enum import StrEnum

from core.simulator.words import content_stems, content_words, normalise_apostrophes

_PARAPHRASES = {
    "send back": "return",
    "sending back": "return",
    "bring back": "return",
    "money back": "refund",
    "my money": "refund",
    "reimburs": "refund",
    "deliver": "shipping",
    "arrive": "shipping",
    "postage": "shipping",
    "ship": "shipping",
    "cost": "price fee",
    "how long do i have": "window",
    "how long have i got": "window",
    "how many days do i have": "window",
    "how many days do i get": "window",
    "purchase": "order",
    "stage": "status",
    "deadline": "window",
    "time limit": "window",
    "reply": "response",
    "respond": "response",
    "get back to": "response",
    "customer service": "support contact",
    "customer support": "support contact",
    "open": "hours",
    "talk to": "agent",
    "speak to": "agent",
    "person": "agent",
    "human": "agent",
    "broke": "break warranty repair",
    "broken": "break warranty repair",
    "faulty": "warranty defect",
    "swap": "exchange",
    "jacket": "parka",
    "wrong size": "exchange size",
    "member": "trail club",
    "book": "appointment",
    "carrier": "ship",
    "slot": "appointment",
    "fitting": "appointment fitting",
}
_ASK_PHRASE = re.compile(r"\bhow (long|much|many|soon|quickly|often)\b|\btakes?\b")
_INTERROGATIVE = (
    r"(?:how|what|when|where|which|who|why|is|are|can|could|do|does|did|will|would|should|may)\b"
)
_SENTENCE = re.compile(r"(?<=[.?!;])\s+")
_PART_BREAK = re.compile(r",?\s+(?:and|or|but|also)\s+")
_ASKING = re.compile(rf"^\W*{_INTERROGATIVE}|\?\s*$")
NEGATION = re.compile(r"\b(not|no|never|cannot|can't|don't|doesn't|isn't|aren't|won't|non)\b")


class Ask(StrEnum):
    """What the question wants besides its topic."""

    AMOUNT = "amount"
    DURATION = "duration"
    HOURS = "hours"
    """When something is open: times of day ("Mon–Fri 8:00–20:00"), not a length of time."""
    STEPS = "steps"
    LIST = "list"


_CUES = {
    Ask.AMOUNT: re.compile(r"\bhow much\b|\bcosts?\b|\bprices?\b|\bfees?\b|\bcharged?\b|\bfree\b"),
    Ask.DURATION: re.compile(
        r"\bhow (long|soon|quickly|far back|many (minutes|hours|days|weeks|months|years))\b"
        r"|\bwhen\b|\bexpire|\bdeadline\b|\btime limit\b|\bhours (?:before|after|ahead|notice)\b"
    ),
    Ask.HOURS: re.compile(r"\bopen(?:ing)?\b|\bhours\b(?! (?:before|after|ahead|notice))"),
    Ask.STEPS: re.compile(r"\bhow (do|can|should|would) (i|we)\b|\bhow to\b|\bsteps?\b"),
    Ask.LIST: re.compile(
        r"\bwhich\b|\bwhat (kinds?|types?|sorts?|options|methods|ways)\b"
        r"|\bwhat\b.*\b(accept|offer|take(?! (?:with|along))|support)\b|\boptions\b"
        r"|^\W*what (?!does|is|was|has)\w+s\b"
    ),
}
_OWN_WINDOW = re.compile(
    r"\bhow (?:long|many days|much time) (?:do|have|did|will) i (?:have|got|get)\b"
    r"|\bhow long have i got\b|\buntil when (?:can|do|must) i\b|\bby when (?:do|must|should) i\b"
    r"|\bdeadline\b|\btime limit\b"
)
"""The customer asks how long *they* have to do something, not how long we take."""
_ACTION = re.compile(r"\bto (\w+(?: back)?)|\b(?:for|before|after|on) (\w+ing(?: back)?)\b")
"""The doing a value is asked about: "how long do I have *to return*…", "the time limit *for
returning*…"."""
_SINCE = re.compile(r"\s+(?:after|once|from|since)\s+([^,;.]*)", re.IGNORECASE)
"""What a value is counted from: "within 5–7 business days *after the item reaches…*"."""
_YES_NO = re.compile(r"^\W*(?:is|are|can|could|do|does|did|will|would|should|may|have|has)\b")
"""A question answered by yes or no: about one thing in particular, not an overview."""
_ENUMERATION = re.compile(r"\w[\w /&-]*(?:, [\w /&-]+){1,}(?:,)? (?:and|or) \w")
_LISTED = re.compile(r"\b(?:which|what)\s+((?:[a-z-]+\s+){0,2}?[a-z-]+s)\b(?!')")
_NOT_PARTS = frozenset({"out", "non", "no", "not", "un"})
_LIST_WORDS = frozenset(content_stems("kinds types sorts ways options"))
_VALUE_NAMES = {
    Ask.AMOUNT: re.compile(r"\b(price|cost|fee|charge|amount|rate)s?\b", re.IGNORECASE),
    Ask.DURATION: re.compile(
        r"\b(time|window|length|duration|days|hours|when|kept|expiry|period|takes?)\b",
        re.IGNORECASE,
    ),
    Ask.HOURS: re.compile(r"\b(hours|when|open|times?)\b", re.IGNORECASE),
}
_SHAPES = {
    Ask.AMOUNT: re.compile(r"\$\s?\d|\bfree\b|\d+\s?%|\bno fee\b", re.IGNORECASE),
    Ask.DURATION: re.compile(
        r"\b\d+(?:[–-]\d+)?\s*(?:business |calendar |working )?"
        r"(?:minutes?|hours?|days?|weeks?|months?|years?)\b"
        r"|\bnext (?:business )?day\b|\bsame day\b|\bimmediately\b|\bnever\b|\d{1,2}:\d{2}",
        re.IGNORECASE,
    ),
    Ask.HOURS: re.compile(r"\d{1,2}:\d{2}\s*[–-]\s*\d{1,2}:\d{2}|\b24 hours a day\b|\b24/7\b"),
}


@dataclass(frozen=True)
class Question:
    """The question's content words, its pairs of adjacent content words ("payment methods"),
    what it asks for, whether it says "not", what it wants listed ("Which payment methods…":
    payment, method), its parts, each read as a question of its own (without parts), and
    whether it asks for the customer's own time to act ("How long have I got to…") and
    whether it asks yes or no, and, for an amount or a duration, the doing it is about
    ("How long do I have to return a jacket?": return)."""

    stems: frozenset[str]
    pairs: frozenset[frozenset[str]]
    asks: frozenset[Ask]
    negated: bool
    listed: frozenset[str] = frozenset()
    parts: tuple[Question, ...] = ()
    own_window: bool = False
    yes_no: bool = False
    action: frozenset[str] = frozenset()

    def wants(self, ask: Ask) -> bool:
        return ask in self.asks

    @property
    def wants_value(self) -> bool:
        """True when it asks for an amount or a duration."""
        return any(ask in _SHAPES for ask in self.asks)

    def names_value(self, column: str) -> bool:
        """True when ``column`` names the kind of value asked for ("Price", "Return window")."""
        return any(_VALUE_NAMES[ask].search(column) for ask in self.asks if ask in _VALUE_NAMES)

    def is_answered_by(self, text: str) -> bool:
        """True when ``text`` holds an amount or a duration of the kind asked for (opening
        hours, when asked, rather than any length of time: "when are you open?")."""
        asks = {Ask.HOURS} if Ask.HOURS in self.asks else self.asks
        return any(_SHAPES[ask].search(text) for ask in asks if ask in _SHAPES)

    def counts_from(self, text: str) -> bool:
        """True when ``text``'s value is counted from the doing asked about, so it measures
        something else: "we refund you within 5–7 days *after the item reaches* the warehouse"
        does not say how long a return takes to reach it."""
        if not self.action:
            return False
        for shape in (_SHAPES[ask] for ask in self.asks if ask in _SHAPES):
            for value in shape.finditer(text):
                since = _SINCE.match(text, value.end())
                if since and self.action <= content_stems(expand_question(since.group(1))):
                    return True
        return False


def says_not(text: str) -> bool:
    """True when ``text`` is negated ("What's not covered", "cannot be returned")."""
    return NEGATION.search(normalise_apostrophes(text.lower())) is not None


def enumerates(text: str) -> bool:
    """True when ``text`` names three or more things ("UPS, FedEx, USPS and DHL")."""
    return _ENUMERATION.search(text) is not None


def holds_value(text: str) -> bool:
    """True when ``text`` states an amount or a duration: the facts of a policy."""
    return any(shape.search(text) for shape in _SHAPES.values())


def read_question(text: str) -> Question:
    """What ``text`` asks, in the form the scoring needs."""
    lowered = normalise_apostrophes(text.lower())
    asking = [sentence for sentence in _SENTENCE.split(lowered) if _ASKING.search(sentence)]
    parts = (_read(part) for sentence in asking for part in _PART_BREAK.split(sentence))
    whole = _read(lowered)
    return replace(whole, parts=tuple(part for part in parts if part.stems))


def _read(lowered: str) -> Question:
    return Question(
        stems=frozenset(content_stems(expand_question(lowered))),
        pairs=pairs_of(content_words(_without_paraphrased(lowered))),
        asks=frozenset(ask for ask, cue in _CUES.items() if cue.search(lowered)),
        negated=NEGATION.search(lowered) is not None,
        listed=frozenset(
            stem for match in _LISTED.finditer(lowered) for stem in content_stems(match.group(1))
        )
        - _LIST_WORDS,
        own_window=_OWN_WINDOW.search(lowered) is not None,
        yes_no=_YES_NO.match(lowered) is not None,
        action=_action(lowered),
    )


def _action(lowered: str) -> frozenset[str]:
    """The stems of what the customer would do, when a value is asked about it; "send back"
    reads as "return"."""
    if not any(_CUES[ask].search(lowered) for ask in _SHAPES):
        return frozenset()
    found = _ACTION.search(lowered)
    if found is None:
        return frozenset()
    return frozenset(content_stems(expand_question(found.group(1) or found.group(2))))


def expand_question(question: str) -> str:
    """The question with everyday phrases ("send back", "money back") followed by the words
        help-centre articles use for them ("return", "refund"). The words of a phrase of several
        words are taken out: on their own they mean something else (the "back" of a card). The words
    of a hyphenated compound are added too."""
    lowered = normalise_apostrophes(question.lower())
    extra = [words for phrase, words in _PARAPHRASES.items() if _says(lowered, phrase)]
    return " ".join([_without_paraphrased(lowered), *extra, *_compound_parts(lowered)])


def _compound_parts(lowered: str) -> list[str]:
    """The words of the customer's compounds ("late-delivery policy": late, delivery), which
    articles write apart; not those of a compound that says "not" ("out-of-warranty")."""
    compounds = re.findall(r"\b[a-z]+(?:-[a-z]+)+\b", lowered)
    return [
        compound.replace("-", " ")
        for compound in compounds
        if not set(compound.split("-")) & _NOT_PARTS
    ]


def pairs_of(words: list[str]) -> frozenset[frozenset[str]]:
    """Each word with the next, in either order ("membership refund", "refund of membership")."""
    return frozenset(frozenset(pair) for pair in itertools.pairwise(words) if pair[0] != pair[1])


def _without_paraphrased(lowered: str) -> str:
    kept = _ASK_PHRASE.sub(" ", lowered)
    for phrase in _PARAPHRASES:
        parts = phrase.split()
        if len(parts) > 1 and _says(lowered, phrase):
            kept = re.sub("|".join(map(_word_pattern, parts)), " ", kept)
    return kept


def _says(lowered: str, phrase: str) -> bool:
    return all(re.search(_word_pattern(part), lowered) for part in phrase.split())


def _word_pattern(part: str) -> str:
    """``send`` also matches "sending"; a short word (``i``, ``do``) only itself."""
    return rf"\b{part}\w*" if len(part) >= 4 else rf"\b{part}\b"
