"""Filling a JSON-schema property with a value read from text.

Shared by tool-call arguments (``intents``) and structured output (``structured``): the property's
name and schema say what is wanted (``order_number`` → ``ORD-10042``, ``new_start`` → an ISO
date-time, an ``enum`` → the value whose words the text mentions most).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from core.simulator import extract
from core.simulator.words import STOPWORDS

STORE_ZONE = ZoneInfo("America/Los_Angeles")
DEFAULT_TIME = time(10, 0)
SYNONYMS: dict[str, tuple[str, ...]] = {
    "order": ("order", "package", "parcel", "track", "where", "shipped", "arrive", "delivery"),
    "status": ("status", "where", "track", "update"),
    "shipping": ("shipping", "delivery", "deliver", "carrier", "ship", "arrive", "late"),
    "return": ("return", "refund", "send back", "exchange", "money back"),
    "refund": ("refund", "money back", "reimburse"),
    "cancel": ("cancel", "cancellation", "don't want", "stop the order"),
    "appointment": ("appointment", "book", "booking", "schedule", "slot", "fitting", "reschedule"),
    "booking": ("book", "booking", "appointment", "slot", "reschedule"),
    "complaint": ("angry", "terrible", "unacceptable", "complain", "disappointed", "worst"),
    "billing": ("charge", "charged", "invoice", "payment", "card", "billing", "price"),
    "product": ("size", "fit", "waterproof", "tent", "jacket", "boots", "material", "product"),
    "account": ("password", "login", "log in", "account", "sign in", "email address"),
    "greeting": ("hello", "hi ", "hey", "good morning"),
    "payment": ("charge", "charged", "card", "invoice", "billing", "paid", "payment"),
    "warranty": ("warranty", "broke", "broken", "defect", "faulty", "snapped", "ripped", "leak"),
    "high": ("urgent", "asap", "immediately", "right now", "unacceptable", "broken", "angry"),
    "urgent": ("urgent", "asap", "immediately", "emergency"),
    "low": ("no rush", "whenever", "not urgent", "just curious"),
    "negative": (
        "terrible",
        "angry",
        "disappointed",
        "unacceptable",
        "worst",
        "frustrat",
        "annoyed",
        "broken",
        "late",
        "still hasn't",
        "never arrived",
        "damaged",
    ),
    "positive": ("thank", "great", "love", "happy", "perfect", "awesome", "excellent"),
}
WEAK_CUES = frozenset({"order", "status", "item", "product", "general", "request"})
"""Words nearly every shop message contains: they count half when choosing an enum value."""
FALLBACK_ENUM = ("other", "general", "neutral", "normal", "medium", "unknown", "none")


@dataclass(frozen=True)
class TextContext:
    """What values are read from: all the text, the user's last words, and today's date."""

    text: str
    focus: str
    today: date


def value_for(name: str, schema: dict[str, Any], context: TextContext) -> Any:
    """A value for property ``name`` fitting ``schema``, or None when the text holds none.

    Free-text properties (summary, description, query…) get the first sentence of the user's
    last message.
    """
    schema = _concrete(schema)
    kind = _type_of(schema)
    if "enum" in schema:
        return choose_enum(list(schema["enum"]), f"{context.focus} {context.text}")
    if "const" in schema:
        return schema["const"]
    if kind == "object":
        return fill_object(schema, context)
    if kind == "array":
        return _array_for(name, schema, context)
    if kind == "boolean":
        return _flag_for(name, context.focus or context.text)
    if kind in ("integer", "number"):
        return _number_for(name, kind, context)
    return _string_for(_words(name), schema, context)


def fill_object(schema: dict[str, Any], context: TextContext) -> dict[str, Any]:
    """Every property of an object schema that the text gives a value for (required ones always)."""
    required = set(schema.get("required", ()))
    filled: dict[str, Any] = {}
    for name, sub_schema in schema.get("properties", {}).items():
        value = value_for(name, sub_schema, context)
        if value is None and name in required:
            value = _placeholder(sub_schema)
        if value is not None:
            filled[name] = value
    return filled


def choose_enum(options: list[Any], text: str) -> Any:
    """The option whose words (and their synonyms) the text mentions most; a catch-all on ties."""
    lowered = f" {text.lower()} "
    scores = {str(option): _enum_score(str(option), lowered) for option in options}
    best = max(scores, key=lambda option: scores[option], default="")
    if not scores or scores[best] == 0:
        fallback = [option for option in options if str(option).lower() in FALLBACK_ENUM]
        return fallback[0] if fallback else options[0]
    return next(option for option in options if str(option) == best)


def keywords(text: str, limit: int = 5) -> list[str]:
    """The most frequent content words of the text, most frequent first."""
    words = [w for w in re.findall(r"[a-z][a-z'-]{2,}", text.lower()) if w not in STOPWORDS]
    return [word for word, _ in Counter(words).most_common(limit)]


def first_sentence(text: str, limit: int = 160) -> str:
    """The first sentence of ``text``, cut at ``limit`` characters on a word boundary."""
    sentence = re.split(r"(?<=[.!?])\s+", text.strip(), maxsplit=1)[0]
    if len(sentence) <= limit:
        return sentence
    return sentence[:limit].rsplit(" ", 1)[0] + "…"


def _enum_score(option: str, lowered: str) -> float:
    words = [word for word in _words(option) if word not in STOPWORDS] or [option.lower()]
    cues: dict[str, float] = {}
    for word in words:
        weight = 0.5 if word in WEAK_CUES else 1.0
        stem = word[:6] if len(word) > 6 else (word[:-1] if word.endswith("s") else word)
        cues[stem] = weight
        for key, synonyms in SYNONYMS.items():
            if key[:5] == word[:5]:
                cues.update({cue: max(cues.get(cue, 0.0), weight) for cue in synonyms})
    return sum(
        weight * len(re.findall(rf"\b{re.escape(cue)}", lowered))
        for cue, weight in cues.items()
        if len(cue) > 1
    )


def _string_for(words: list[str], schema: dict[str, Any], context: TextContext) -> Any:
    fmt = schema.get("format", "")
    joined = "_".join(words)
    if fmt == "date-time" or {"start", "datetime", "when"} & set(words):
        return _datetime_value(context)
    if fmt == "date" or {"date", "day"} & set(words):
        found = extract.find_date(context.focus, context.today)
        return found.isoformat() if found else None
    if fmt == "email" or "email" in words:
        emails = extract.find_emails(context.text)
        return emails[0] if emails else None
    if "order" in words:
        return _order_number(context)
    if {"booking", "appointment", "reservation"} & set(words):
        return extract.find_booking_id(context.text)
    if "time" in words:
        found_time = extract.find_time(context.focus)
        return found_time.strftime("%H:%M") if found_time else None
    if "service" in words:
        return extract.find_keyed(context.focus or context.text, extract.SERVICES)
    if {"location", "store", "city", "place"} & set(words):
        return extract.find_keyed(context.focus or context.text, extract.LOCATIONS)
    if "name" in words or joined == "customer":
        return extract.find_name(context.text)
    if "reason" in words:
        return _reason(context.focus)
    if {"language", "lang", "locale"} & set(words):
        return "en"
    if {"keyword", "keywords", "topic", "tag"} & set(words):
        topics = keywords(context.text, 1)
        return topics[0] if topics else None
    return first_sentence(context.focus or context.text) or None


def _order_number(context: TextContext) -> str | None:
    """The order number the last message names (its last one); an earlier one only when the
    message points back at it ("cancel it"), so a new message never acts on an old order."""
    numbers = extract.find_order_numbers(context.focus)
    if not numbers and extract.refers_back(context.focus):
        numbers = extract.find_order_numbers(context.text)
    return numbers[-1] if numbers else None


def _datetime_value(context: TextContext) -> str | None:
    day = extract.find_date(context.focus, context.today)
    if day is None:
        return None
    moment = datetime.combine(day, extract.find_time(context.focus) or DEFAULT_TIME, STORE_ZONE)
    return moment.isoformat()


def _number_for(name: str, kind: str, context: TextContext) -> float | int | None:
    words = set(_words(name))
    if "order" in words:
        numbers = extract.find_order_numbers(context.text)
        return int(numbers[-1].removeprefix("ORD-")) if numbers else None
    if {"booking", "appointment", "reservation"} & words:
        booking = extract.find_booking_id(context.text)
        digits = re.sub(r"\D", "", booking or "")
        return int(digits) if digits else None
    if {"confidence", "score", "probability"} & words:
        return 0.9 if kind == "number" else 1
    found = extract.find_numbers(context.focus) or extract.find_numbers(context.text)
    if not found:
        return None
    return int(found[0]) if kind == "integer" else found[0]


def _flag_for(name: str, text: str) -> bool:
    lowered = text.lower()
    words = set(_words(name))
    if {"urgent", "escalate", "escalation", "human", "priority"} & words:
        return any(cue in lowered for cue in (*SYNONYMS["urgent"], "human", "agent", "person"))
    if {"refund", "return"} & words:
        return any(cue in lowered for cue in SYNONYMS["return"])
    return any(word in lowered for word in words if len(word) > 3)


def _array_for(name: str, schema: dict[str, Any], context: TextContext) -> list[Any]:
    words = set(_words(name))
    items = schema.get("items", {})
    if "order" in words:
        return list(extract.find_order_numbers(context.text))
    if {"keywords", "keyword", "topics", "tags", "entities"} & words:
        return keywords(context.text)
    if "enum" in items:
        return [choose_enum(list(items["enum"]), context.text)]
    value = value_for(name.rstrip("s"), items, context)
    return [] if value is None else [value]


def _reason(text: str) -> str | None:
    match = re.search(r"\b(?:because|since|reason is|due to)\b\s+(.+?)(?:[.!?]|$)", text, re.I)
    return match.group(1).strip() if match else None


def _placeholder(schema: dict[str, Any]) -> Any:
    placeholders: dict[str, Any] = {
        "string": "",
        "integer": 0,
        "number": 0.0,
        "boolean": False,
        "array": [],
        "object": {},
    }
    return placeholders.get(_type_of(schema), "")


def _concrete(schema: dict[str, Any]) -> dict[str, Any]:
    for key in ("anyOf", "oneOf"):
        options = [option for option in schema.get(key, ()) if option.get("type") != "null"]
        if options:
            return {**schema, **options[0]}
    return schema


def _type_of(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind is None and "properties" in schema:
        return "object"
    return str(kind or "string")


def _words(name: str) -> list[str]:
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    return [word for word in re.split(r"[^a-zA-Z0-9]+", spaced.lower()) if word]
