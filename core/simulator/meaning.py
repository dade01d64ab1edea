"""What a customer's message asks for, decided by meaning: nearest labelled examples.

Each message is embedded with the shipped all-MiniLM-L6-v2 model (``core.kb.embedder``) and
compared with example utterances labelled by what they ask for (``intent_examples``); an intent
scores the mean similarity of its ``NEIGHBOURS`` closest examples and the best one wins. So "Can
I get free shipping on my orders?" reads as a question about the shipping policy, not as a
request to act on an order, although it shares the words. A change (cancel, book, move) also
needs the verb that asks for it in the message itself, and a hypothetical ("if I cancelled…",
"what happens if…") or a rule about any order in some state ("an order that has been packed")
never asks for one.
"""

from __future__ import annotations

import re
import threading
from enum import StrEnum

import numpy as np

from core.kb.embedder import LocalEmbedder, get_local_embedder
from core.simulator.intent_examples import EXAMPLES

NEIGHBOURS = 3
REMEMBERED = 20_000
"""Passage pieces whose vectors are kept between turns."""
_remembered: dict[str, np.ndarray] = {}
_remembered_lock = threading.Lock()


class Intent(StrEnum):
    INFORMATION = "information"
    """A question the help centre answers (policies, prices, hours, how-tos)."""
    ORDER_STATUS = "order_status"
    """Where is my order, has it shipped, when will it arrive."""
    CANCEL_ORDER = "cancel_order"
    BOOK = "book"
    RESCHEDULE = "reschedule"
    AVAILABILITY = "availability"
    """Which appointment times are free."""
    HUMAN = "human"
    """The customer wants a person."""
    RECAP = "recap"
    """A question about this conversation itself ("what did we talk about?")."""
    SUMMARY = "summary"
    """Summarise the attached document."""


CHANGES = frozenset({Intent.CANCEL_ORDER, Intent.BOOK, Intent.RESCHEDULE})
"""Intents that change something the customer owns."""
_VERBS = {
    Intent.CANCEL_ORDER: r"cancel\w*|call off|stop (?:the|my) order|don'?t want (?:it|the order)",
    Intent.BOOK: r"book\w*|schedul\w*|reserve|make an appointment|set up an appointment"
    r"|sign me up|get me (?:an? )?(?:slot|appointment)",
    Intent.RESCHEDULE: r"reschedul\w*|move|moving|push (?:it|my)|chang\w* (?:the|my) "
    r"(?:time|appointment|booking|day|date)|switch|different (?:time|day)|another (?:time|day)"
    r"|later (?:time|slot)|earlier (?:time|slot)",
}
_HYPOTHETICAL = re.compile(
    r"^\s*(?:if|what happens|what if|suppose|in case|hypothetically|say I)\b|\bif I\b"
    r"|\bwould I\b|\bhow (?:soon|long|quickly) (?:would|will|do|does)\b|\bwhat would\b"
    r"|\bthinking (?:about|of)\b|\bconsidering\b|\bwondering\b",
    re.IGNORECASE,
)

_GENERAL = re.compile(
    r"\b(?:an?|any) (?:order|purchase|booking|appointment)s? (?:that|which|once|after|when|if)\b",
    re.IGNORECASE,
)
"""A rule asked about any order in some state ("Can I still cancel an order that has been
packed?"): a policy question, not a request."""

_OWN = re.compile(
    r"\b(?:my|mine|me|I|I'?d|I'?m|I'?ve|us|our|it|please)\b|\bORD[-\s]?\d{4,}|#\s?\d{5,}"
    r"|\b(?:order|booking|BK)[-\s#]*\d+",
    re.I,
)
"""A change is asked for something of the customer's, or politely: a policy question names
nobody's order."""


_ASKS_FOR_PERSON = re.compile(
    r"\b(?:talk|speak|chat)(?:ing)? (?:to|with) (?:a|an|the|some|your|real)?\s*"
    r"(?:real |live |actual )?(?:person|human|agent|someone|somebody|manager|representative)\b"
    r"|\bescalate\b|\b(?:real|live|actual) (?:person|human)\b|\bhuman being\b",
    re.IGNORECASE,
)
"""Asking in so many words for a person: that wins over whatever else the message names."""


def classify(text: str) -> Intent:
    """The intent whose examples are nearest ``text`` in meaning; an order's status only when
    the message is about the customer's own order; a person whenever the message asks for one
    in so many words ("I want to talk to a person about ORD-10042")."""
    if _ASKS_FOR_PERSON.search(text) and not _HYPOTHETICAL.search(text):
        return Intent.HUMAN
    intent = _Examples.shared().nearest(text)
    if intent is Intent.ORDER_STATUS and not _OWN.search(text):
        return Intent.INFORMATION
    return intent


def asks_to_change(intent: Intent, text: str) -> bool:
    """True when ``text`` asks, in so many words and not hypothetically, for ``intent`` to be
    done to something of the customer's own ("my order", "ORD-10042", "book me…")."""
    verbs = _VERBS.get(intent)
    if verbs is None or _HYPOTHETICAL.search(text) or _GENERAL.search(text):
        return False
    if not _OWN.search(text):
        return False
    return re.search(rf"\b(?:{verbs})\b", text, re.IGNORECASE) is not None


def similarities(text: str, candidates: list[str]) -> np.ndarray:
    """Cosine similarity of ``text`` with each candidate, by the shared embedding model
    (candidates' vectors are remembered: the same passages come back turn after turn). Each
    candidate is embedded on its own, so its vector, and the answer, do not depend on which
    other passages came with it or were read before."""
    if not candidates:
        return np.zeros(0, dtype=np.float32)
    return np.asarray(_vectors(candidates) @ _embedder().embed([text])[0])


def _vectors(texts: list[str]) -> np.ndarray:
    with _remembered_lock:
        missing = list(dict.fromkeys(t for t in texts if t not in _remembered))
    if missing:
        fresh = _embedder().embed_each(missing)
        with _remembered_lock:
            if len(_remembered) > REMEMBERED:
                _remembered.clear()
            _remembered.update(zip(missing, fresh, strict=True))
    with _remembered_lock:
        return np.stack([_remembered[t] for t in texts])


class _Examples:
    """The labelled examples, embedded once per process."""

    _lock = threading.Lock()
    _instance: _Examples | None = None

    def __init__(self) -> None:
        self.labels = [Intent(label) for label, texts in EXAMPLES.items() for _ in texts]
        self.vectors = _embedder().embed([t for texts in EXAMPLES.values() for t in texts])

    @classmethod
    def shared(cls) -> _Examples:
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def nearest(self, text: str) -> Intent:
        scores = self.vectors @ _embedder().embed([text])[0]
        best: tuple[float, Intent] | None = None
        for intent in Intent:
            mine = np.sort(scores[[i for i, label in enumerate(self.labels) if label == intent]])
            if mine.size == 0:
                continue
            score = float(mine[-NEIGHBOURS:].mean())
            if best is None or score > best[0]:
                best = (score, intent)
        return best[1] if best else Intent.INFORMATION


def _embedder() -> LocalEmbedder:
    return get_local_embedder()
