import pytest

from core.conversation.structured import StructuredOutputError, request_json, validate_json
from core.providers.base import ChatMessage, ChatRequest, ChatResponse
from tests.core.conversation.conftest import App

SCHEMA = {
    "type": "object",
    "properties": {"intent": {"type": "string", "enum": ["refund", "other"]}},
    "required": ["intent"],
}


def _reply(text: str) -> ChatResponse:
    return ChatResponse(
        text=text,
        tool_calls=[],
        model="gpt-4o-mini",
        provider="openai",
        input_tokens=10,
        output_tokens=5,
        cached_input_tokens=0,
        finish_reason="stop",
        simulated=True,
    )


class _Model:
    def __init__(self, *replies: str) -> None:
        self.replies = list(replies)
        self.requests: list[ChatRequest] = []

    def __call__(self, request: ChatRequest) -> ChatResponse:
        self.requests.append(request)
        return _reply(self.replies.pop(0))


def _ask(model: _Model) -> object:
    return request_json(
        model,
        name="intent",
        schema=SCHEMA,
        messages=[ChatMessage(role="user", content="I want my money back")],
        model="gpt-4o-mini",
    )


def test_valid_json_is_returned_after_one_request() -> None:
    model = _Model('{"intent": "refund"}')

    result = _ask(model)

    assert result.data == {"intent": "refund"}  # type: ignore[attr-defined]
    assert len(model.requests) == 1
    assert model.requests[0].response_format is not None


def test_broken_json_is_retried_once_with_the_error_quoted() -> None:
    model = _Model('{"intent": "refund"', '{"intent": "refund"}')

    result = _ask(model)

    assert result.recovered  # type: ignore[attr-defined]
    retry = model.requests[1].messages[-1].content
    assert "not JSON" in retry and '"required"' in retry


def test_schema_violation_twice_raises_a_sentence() -> None:
    model = _Model('{"intent": "upset"}', '{"mood": "upset"}')

    with pytest.raises(StructuredOutputError, match="not valid JSON for its schema twice"):
        _ask(model)


def test_fenced_json_is_accepted() -> None:
    error, data = validate_json('```json\n{"intent": "other"}\n```', SCHEMA)

    assert error is None and data == {"intent": "other"}


def test_a_rejected_reply_is_an_attempt_event_carrying_the_validation_error(fresh: App) -> None:
    model = _Model('{"intent": "upset"}', '{"intent": "refund"}')

    _ask(model)

    span = next(s for s in fresh.finished_spans() if s.name == "structured intent")
    first, second = (dict(event.attributes or {}) for event in span.events)
    assert first == {
        "number": 1,
        "valid": False,
        "error": "intent: 'upset' is not one of ['refund', 'other']",
    }
    assert second == {"number": 2, "valid": True}
