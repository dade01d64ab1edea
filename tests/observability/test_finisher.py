"""Provider-call spans are made off the caller's thread; flushing or shutting down makes them."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from observability import Observatory, context, instrument_openai
from observability.instrumentation.finisher import SpanFinisher
from tests.observability.wire import Server, chat_completion, json_response, openai_client

MESSAGES = [{"role": "user", "content": "Do you ship to Canada?"}]


class ThreadOfEnd(SpanProcessor):
    """Notes the thread each span ends on."""

    def __init__(self) -> None:
        self.threads: list[str] = []

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        """Nothing to note."""

    def on_end(self, span: ReadableSpan) -> None:
        self.threads.append(threading.current_thread().name)


def test_the_callers_thread_does_not_make_the_span() -> None:
    observatory = Observatory(service_name="svc")
    ends = ThreadOfEnd()
    observatory.tracer_provider.add_span_processor(ends)
    client = instrument_openai(openai_client(Server().reply(json_response(chat_completion()))))
    try:
        with context(conversation_id="c-9"):
            client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        assert observatory.force_flush()
    finally:
        observatory.shutdown()

    assert ends.threads == ["span-finisher"]


def test_shutdown_makes_every_pending_span_with_its_ids_and_price() -> None:
    observatory = Observatory(service_name="svc")
    exporter = InMemorySpanExporter()
    observatory.tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    server = Server()
    for _ in range(50):
        server.reply(json_response(chat_completion()))
    client = instrument_openai(openai_client(server))
    with context(conversation_id="c-1", user_id="u-1"):
        for _ in range(50):
            client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    observatory.shutdown()

    spans = exporter.get_finished_spans()
    assert len(spans) == 50
    for span in spans:
        attributes = span.attributes or {}
        assert attributes["observatory.conversation.id"] == "c-1"
        assert attributes["observatory.cost.status"] == "priced"
        assert span.start_time is not None and span.end_time is not None
        assert span.start_time <= span.end_time


def test_items_are_made_in_order_and_drain_waits_for_them() -> None:
    made: list[int] = []
    finisher: SpanFinisher[int] = SpanFinisher(made.append, delay_s=0.05)
    for number in range(1000):
        finisher.submit(number)

    assert finisher.drain(timeout_s=10)
    assert made == list(range(1000))
    finisher.close()


def test_a_failing_item_is_logged_and_the_rest_are_made(caplog: pytest.LogCaptureFixture) -> None:
    made: list[int] = []

    def make(number: int) -> None:
        if number == 1:
            raise RuntimeError("exporter bug")
        made.append(number)

    finisher: SpanFinisher[int] = SpanFinisher(make)
    for number in range(3):
        finisher.submit(number)

    assert finisher.drain(timeout_s=10)
    assert made == [0, 2]
    assert "could not make the span" in caplog.text
    finisher.close()


def test_after_close_items_are_made_at_once() -> None:
    made: list[int] = []
    finisher: SpanFinisher[int] = SpanFinisher(made.append)
    finisher.submit(1)
    finisher.close()

    finisher.submit(2)

    assert made == [1, 2]
