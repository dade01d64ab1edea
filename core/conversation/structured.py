"""Ask a model for JSON that fits a schema, and recover once when it does not.

The first request carries the schema as the response format. If the reply does not parse or
does not validate, a second request quotes the schema and the error and asks again. The call is
one ``structured {name}`` span holding the model calls and one ``attempt`` event per reply
(``number``, ``valid`` and, for a rejected reply, the validation ``error``), so a recovery and
its reason show in the trace.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import jsonschema
from opentelemetry import trace

from core.errors import EngineError
from core.providers.base import ChatMessage, ChatRequest, ChatResponse

tracer = trace.get_tracer("support_observatory.engine")

Ask = Callable[[ChatRequest], ChatResponse]


@dataclass(frozen=True)
class StructuredAttempt:
    raw: str
    error: str | None


@dataclass(frozen=True)
class StructuredResult:
    data: dict[str, Any]
    attempts: tuple[StructuredAttempt, ...]
    response: ChatResponse

    @property
    def recovered(self) -> bool:
        """True when the first answer was invalid and the retry fixed it."""
        return len(self.attempts) > 1


class StructuredOutputError(EngineError):
    """Both attempts returned JSON that did not fit the schema."""


def request_json(
    ask: Ask,
    *,
    name: str,
    schema: dict[str, Any],
    messages: Sequence[ChatMessage],
    model: str,
    max_tokens: int = 600,
) -> StructuredResult:
    """Return the model's JSON for ``schema``; retry once with the error quoted; else raise."""
    response_format = {"type": "json_schema", "json_schema": {"name": name, "schema": schema}}
    attempts: list[StructuredAttempt] = []
    conversation = list(messages)
    with tracer.start_as_current_span(f"structured {name}") as span:
        span.set_attribute("observatory.structured.schema", name)
        for number in (1, 2):
            request = ChatRequest(
                model=model,
                messages=conversation,
                response_format=response_format,
                temperature=0.0,
                max_tokens=max_tokens,
            )
            response = ask(request)
            error, data = validate_json(response.text, schema)
            attempts.append(StructuredAttempt(response.text, error))
            span.add_event("attempt", _attempt_event(number, error))
            if error is None and data is not None:
                span.set_attribute("observatory.structured.attempts", number)
                return StructuredResult(data, tuple(attempts), response)
            conversation = [*conversation, _retry_instruction(response.text, error, schema)]
        span.set_attribute("observatory.structured.attempts", 2)
        span.set_status(trace.StatusCode.ERROR, "invalid JSON twice")
    raise StructuredOutputError(
        f"The model's {name} was not valid JSON for its schema twice ({attempts[-1].error})."
    )


def validate_json(raw: str, schema: dict[str, Any]) -> tuple[str | None, dict[str, Any] | None]:
    """``(None, data)`` when ``raw`` is a JSON object fitting ``schema``, else ``(error, None)``."""
    try:
        data = json.loads(_strip_fence(raw))
    except json.JSONDecodeError as exc:
        return f"not JSON: {exc.msg} at character {exc.pos}", None
    if not isinstance(data, dict):
        return "the JSON is not an object", None
    try:
        jsonschema.validate(data, schema)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(part) for part in exc.absolute_path) or "the object"
        return f"{where}: {exc.message}", None
    return None, data


def _attempt_event(number: int, error: str | None) -> dict[str, Any]:
    """The ``attempt`` event: its number, whether it was valid and, if not, the error."""
    if error is None:
        return {"number": number, "valid": True}
    return {"number": number, "valid": False, "error": error}


def _retry_instruction(raw: str, error: str | None, schema: dict[str, Any]) -> ChatMessage:
    return ChatMessage(
        role="user",
        content=(
            f"Your previous reply was rejected: {error}.\nIt was:\n{raw[:2000]}\n\n"
            "Reply again with only a JSON object that validates against this JSON schema:\n"
            f"{json.dumps(schema)}"
        ),
    )


def _strip_fence(raw: str) -> str:
    text = raw.strip()
    if text.startswith("```"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
        text = text.rsplit("```", 1)[0]
    return text
