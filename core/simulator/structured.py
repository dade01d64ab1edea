"""JSON mode and structured output: real JSON whose values are read from the request's text.

With a schema (OpenAI ``json_schema``, a forced Anthropic tool) every property is filled by
``values``; an intent ``enum`` gets the value whose words the text uses most. With plain JSON
mode the wanted keys come from an example object or a "keys"/"fields" list in the instructions,
else a small triage object is returned.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from core.simulator.extract import find_name, find_order_numbers
from core.simulator.messages import Role, SimRequest
from core.simulator.sources import strip_sources
from core.simulator.summarise import summarise_text
from core.simulator.values import TextContext, choose_enum, fill_object, first_sentence, keywords

_INTENTS = ["order_status", "return", "cancel", "appointment", "billing", "product", "other"]
_REPLY_FIELDS = frozenset(
    {"reply", "response", "answer", "suggested_reply", "draft", "draft_reply"}
)
_REPLIES = {
    "cancel": "I've asked our warehouse to cancel {order}; if it hasn't shipped yet you'll get a "
    "confirmation e-mail and a full refund.",
    "return_refund": "You can return items within 30 days of delivery (60 days for Trail Club "
    "members), and refunds are issued 5–7 business days after the item reaches our warehouse.",
    "order_shipping": "I'm checking on {order} now and will send you its tracking details and "
    "delivery date within the hour.",
    "appointment": "I can book or move your appointment — which day and time suit you best?",
    "warranty": "I'm sorry the item let you down. Please send a photo of the damage and we'll "
    "arrange a repair or replacement under warranty.",
    "payment": "I've flagged the charge to our billing team, who will check it and reply within "
    "one business day.",
    "complaint": "I'm really sorry about this experience. I've passed your feedback to our team "
    "lead and will follow up personally by tomorrow.",
    "other": "I'm looking into this now and will get back to you shortly.",
}
_CUSTOMER_LINE = re.compile(r"^\s*(?:customer|user)\s*:\s*(.*)$", re.IGNORECASE | re.MULTILINE)
_SENTIMENTS = ["positive", "neutral", "negative"]
_KEY_LIST = re.compile(r"\b(?:keys|fields|properties)\b[^:\n]*[:(]\s*([^\n)]+)", re.IGNORECASE)
_QUOTED = re.compile(r"[\"'`]([A-Za-z_][A-Za-z0-9_]*)[\"'`]")


def compose_json(request: SimRequest, today: date) -> dict[str, Any]:
    """The JSON object answering a JSON-mode or structured-output request."""
    context = json_context(request, today)
    schema = request.json_schema or schema_from_instructions(request.system)
    if schema is None:
        return _triage(context)
    filled = fill_object(inline_refs(schema), context)
    if "summary" in filled:
        filled["summary"] = " ".join(summarise_text(context.focus, 2)) or filled["summary"]
    for key in _REPLY_FIELDS.intersection(filled):
        filled[key] = draft_reply(context)
    return filled


def draft_reply(context: TextContext) -> str:
    """A reply an agent could send as it is, for what the customer's messages are about."""
    intent = choose_enum(list(_REPLIES), _customer_words(context.focus))
    orders = find_order_numbers(context.text)
    name = find_name(context.text)
    greeting = f"Hi {name.split()[0]}, thanks" if name else "Hi, thanks"
    body = _REPLIES[intent].format(order=orders[-1] if orders else "your order")
    return f"{greeting} for getting in touch. {body}"


def json_context(request: SimRequest, today: date) -> TextContext:
    """The text JSON values are taken from: the user's words (the last message in focus)."""
    users = [turn.text for turn in request.turns if turn.role is Role.USER]
    return TextContext(text="\n".join(users), focus=request.last_user_text(), today=today)


def schema_from_instructions(system: str) -> dict[str, Any] | None:
    """An object schema guessed from an example JSON object or a list of keys in the prompt."""
    instructions = strip_sources(system)
    example = _example_object(instructions)
    if example is not None:
        return {
            "type": "object",
            "properties": {key: _schema_of_example(value) for key, value in example.items()},
            "required": list(example),
        }
    listed = _KEY_LIST.search(instructions)
    if listed is None:
        return None
    names = _QUOTED.findall(listed.group(1)) or re.findall(r"[A-Za-z_]\w*", listed.group(1))
    if not names:
        return None
    return {
        "type": "object",
        "properties": {n: {"type": "string"} for n in names},
        "required": names,
    }


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with local ``$ref``s (``#/$defs/…``, ``#/definitions/…``) replaced inline."""
    definitions = {**schema.get("definitions", {}), **schema.get("$defs", {})}

    def resolve(node: Any, depth: int) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and depth < 8:
                target = definitions.get(ref.rsplit("/", 1)[-1], {})
                return resolve(
                    {**target, **{k: v for k, v in node.items() if k != "$ref"}}, depth + 1
                )
            return {key: resolve(value, depth) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item, depth) for item in node]
        return node

    resolved: dict[str, Any] = resolve(schema, 0)
    return resolved


def missing_required(schema: dict[str, Any], value: dict[str, Any]) -> dict[str, Any]:
    """``value`` without its required fields (for the schema-violation fault)."""
    required = set(schema.get("required", ())) or set(list(value)[:1])
    return {key: item for key, item in value.items() if key not in required}


def _customer_words(text: str) -> str:
    lines = _CUSTOMER_LINE.findall(text)
    return "\n".join(lines) if lines else text


def _triage(context: TextContext) -> dict[str, Any]:
    return {
        "summary": first_sentence(context.focus),
        "intent": choose_enum(_INTENTS, context.focus),
        "sentiment": choose_enum(_SENTIMENTS, context.focus),
        "order_numbers": find_order_numbers(context.text),
        "keywords": keywords(context.focus),
    }


def _example_object(text: str) -> dict[str, Any] | None:
    for match in re.finditer(r"\{", text):
        end = text.find("}", match.start())
        while end != -1:
            try:
                candidate = json.loads(text[match.start() : end + 1])
            except ValueError:
                end = text.find("}", end + 1)
                continue
            return candidate if isinstance(candidate, dict) and candidate else None
    return None


def _schema_of_example(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int | float):
        return {"type": "number" if isinstance(value, float) else "integer"}
    if isinstance(value, list):
        return {"type": "array", "items": _schema_of_example(value[0]) if value else {}}
    if isinstance(value, dict):
        properties = {key: _schema_of_example(item) for key, item in value.items()}
        return {"type": "object", "properties": properties, "required": list(value)}
    text = str(value)
    if "|" in text:
        return {"type": "string", "enum": [option.strip() for option in text.split("|")]}
    return {"type": "string"}
