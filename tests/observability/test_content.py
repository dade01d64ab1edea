"""Message content: off by default, and when on, always through the PII redactor first."""

from __future__ import annotations

import json
import re
import sys
import types
from collections.abc import Iterator

import pytest

from observability import Observatory, instrument_anthropic, instrument_openai
from observability.instrumentation._common import default_redactor
from tests.observability.conftest import Traced
from tests.observability.wire import (
    Server,
    anthropic_client,
    anthropic_message,
    chat_completion,
    json_response,
    openai_client,
)
from tests.spans import FlushedSpans

EMAIL = "jane@example.com"
MESSAGES = [
    {"role": "system", "content": "You are Northwind's assistant."},
    {"role": "user", "content": f"Where is my order? Email me at {EMAIL}"},
]
CONTENT_KEYS = {"gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions"}


def mask_emails(text: str) -> str:
    return re.sub(r"\S+@\S+", "[EMAIL]", text)


@pytest.fixture
def builtin_redactor(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Stand-in for ``observability.redaction`` with the contracted ``default_redactor``."""
    module = types.ModuleType("observability.redaction")
    module.default_redactor = mask_emails  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "observability.redaction", module)
    default_redactor.cache_clear()
    yield
    default_redactor.cache_clear()


def call_openai(client_reply: str = f"I emailed {EMAIL} today", **instrument: object) -> None:
    server = Server().reply(json_response(chat_completion(content=client_reply)))
    client = instrument_openai(openai_client(server), **instrument)  # type: ignore[arg-type]
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES)


def test_content_is_off_by_default(traced: Traced, builtin_redactor: None) -> None:
    call_openai()

    assert not CONTENT_KEYS & set(traced.only().attributes or {})


def test_env_variable_turns_capture_on_with_builtin_redactor(
    traced: Traced, builtin_redactor: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    observatory = Observatory(service_name="env")
    exporter = FlushedSpans(observatory.tracer_provider)
    try:
        call_openai()
    finally:
        observatory.shutdown()

    attributes = exporter.get_finished_spans()[0].attributes or {}
    dumped = json.dumps(dict(attributes))
    assert EMAIL not in dumped
    inputs = json.loads(str(attributes["gen_ai.input.messages"]))
    assert inputs == [
        {
            "role": "user",
            "parts": [{"type": "text", "content": "Where is my order? Email me at [EMAIL]"}],
        }
    ]
    system = json.loads(str(attributes["gen_ai.system_instructions"]))
    assert system == [{"type": "text", "content": "You are Northwind's assistant."}]
    outputs = json.loads(str(attributes["gen_ai.output.messages"]))
    assert outputs[0]["parts"] == [{"type": "text", "content": "I emailed [EMAIL] today"}]


def test_observatory_setting_and_redactor_reach_instrumentations() -> None:
    observatory = Observatory(capture_content=True, redactor=lambda text: text.replace("o", "0"))
    exporter = FlushedSpans(observatory.tracer_provider)
    try:
        server = Server().reply(json_response(anthropic_message(text="Good news")))
        client = instrument_anthropic(anthropic_client(server))
        client.messages.create(
            model="claude-3-haiku-20240307",
            max_tokens=64,
            system="Be brief.",
            messages=[{"role": "user", "content": "Hello"}],
        )
    finally:
        observatory.shutdown()

    attributes = exporter.get_finished_spans()[0].attributes or {}
    assert json.loads(str(attributes["gen_ai.input.messages"]))[0]["parts"][0]["content"] == "Hell0"
    assert "G00d news" in str(attributes["gen_ai.output.messages"])
    assert "Be brief." in str(attributes["gen_ai.system_instructions"])


def test_without_a_redactor_nothing_is_captured(
    traced: Traced, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "observability.redaction", None)
    default_redactor.cache_clear()
    try:
        call_openai(capture_content=True)
    finally:
        default_redactor.cache_clear()

    assert not CONTENT_KEYS & set(traced.only().attributes or {})


def test_failing_redactor_withholds_content_and_keeps_usage(traced: Traced) -> None:
    def broken(text: str) -> str:
        raise ValueError("regex blew up")

    call_openai(capture_content=True, redactor=broken)

    attributes = traced.only().attributes or {}
    assert EMAIL not in json.dumps(dict(attributes))
    assert "[withheld: redaction failed]" in str(attributes["gen_ai.output.messages"])
    assert attributes["gen_ai.usage.input_tokens"] == 1200


def test_real_builtin_redactor_masks_email_on_spans() -> None:
    pytest.importorskip("observability.redaction")
    default_redactor.cache_clear()
    observatory = Observatory(capture_content=True)
    exporter = FlushedSpans(observatory.tracer_provider)
    try:
        call_openai()
    finally:
        observatory.shutdown()

    dumped = json.dumps(dict(exporter.get_finished_spans()[0].attributes or {}))
    assert "gen_ai.input.messages" in dumped
    assert EMAIL not in dumped
