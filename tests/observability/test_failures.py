"""A failure inside telemetry never reaches the caller; the caller's own errors pass unchanged."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

from observability import instrument_openai, observe, span
from observability.instrumentation import _common
from tests.observability.conftest import Traced
from tests.observability.wire import (
    Server,
    chat_completion,
    json_response,
    openai_chunks,
    openai_client,
    sse,
)

MESSAGES = [{"role": "user", "content": "Do you ship to Canada?"}]


class BrokenExporter(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        raise ConnectionError("trace store unreachable")


class BrokenProcessor(SpanProcessor):
    def on_start(self, span: Any, parent_context: Any = None) -> None:
        raise RuntimeError("processor bug on start")

    def on_end(self, span: ReadableSpan) -> None:
        raise RuntimeError("processor bug on end")


def test_exporter_failure_is_swallowed(traced: Traced) -> None:
    traced.observatory.tracer_provider.add_span_processor(SimpleSpanProcessor(BrokenExporter()))
    server = Server().reply(json_response(chat_completion(content="Yes, we do.")))
    client = instrument_openai(openai_client(server))

    result = client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    assert result.choices[0].message.content == "Yes, we do."
    assert len(traced.spans()) == 1


def test_raising_processor_never_reaches_the_caller(traced: Traced) -> None:
    traced.observatory.tracer_provider.add_span_processor(BrokenProcessor())
    server = Server().reply(json_response(chat_completion())).reply(sse(openai_chunks(["ok"])))
    client = instrument_openai(openai_client(server))

    @observe
    def turn() -> str:
        with span("lookup"):
            plain = client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        streamed = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
        text = "".join(c.choices[0].delta.content or "" for c in streamed if c.choices)
        return f"{plain.choices[0].message.content} {text}"

    assert turn() == "Your order ORD-10001 shipped. ok"


def test_pricing_bug_keeps_the_response(traced: Traced, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(attributes: Any) -> Any:
        raise ArithmeticError("bad price row")

    monkeypatch.setattr(_common, "price_span_attributes", broken)
    server = Server().reply(json_response(chat_completion()))
    client = instrument_openai(openai_client(server))

    result = client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    assert result.usage.prompt_tokens == 1200
    assert len(traced.spans()) == 1


def test_span_start_failure_still_makes_the_call(
    traced: Traced, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("tracer bug")

    monkeypatch.setattr(_common, "start_call", broken)
    monkeypatch.setattr("observability.instrumentation._wrap.start_call", broken)
    server = Server().reply(json_response(chat_completion(content="still here")))
    client = instrument_openai(openai_client(server))

    result = client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    assert result.choices[0].message.content == "still here"
    assert traced.spans() == []
