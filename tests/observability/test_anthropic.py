"""Anthropic calls become priced GenAI spans; cached input is billed once at its own rate."""

from __future__ import annotations

import json

import anthropic
import httpx2
import pytest
from opentelemetry.trace import StatusCode

from observability import instrument_anthropic
from tests.observability.conftest import Traced
from tests.observability.wire import (
    Server,
    anthropic_client,
    anthropic_events,
    anthropic_message,
    json_response,
    sse,
)

MESSAGES = [{"role": "user", "content": "Can I return boots after 40 days?"}]


def test_message_span_adds_cache_to_input_and_prices_each_part(traced: Traced) -> None:
    body = anthropic_message(input_tokens=100, output_tokens=40, cache_read=2000, cache_write=500)
    server = Server().reply(json_response(body))
    client = instrument_anthropic(anthropic_client(server))

    message = client.messages.create(
        model="claude-3-5-haiku-latest", max_tokens=256, messages=MESSAGES
    )

    assert message.usage.input_tokens == 100
    span = traced.only()
    a = span.attributes or {}
    assert span.name == "chat claude-3-5-haiku-latest"
    assert a["gen_ai.provider.name"] == "anthropic"
    assert a["gen_ai.response.model"] == "claude-3-5-haiku-20241022"
    assert a["gen_ai.usage.input_tokens"] == 2600
    assert a["gen_ai.usage.cache_read.input_tokens"] == 2000
    assert a["gen_ai.usage.cache_creation.input_tokens"] == 500
    assert a["gen_ai.response.finish_reasons"] == ("end_turn",)
    # 100 × 0.80 + 2000 × 0.08 + 500 × 1.00 + 40 × 4.00 per 1M = 0.0009
    assert a["observatory.cost.usd"] == pytest.approx(0.0009, abs=1e-12)


async def test_async_client_is_traced(traced: Traced) -> None:
    server = Server().reply(json_response(anthropic_message(model="claude-3-opus-20240229")))
    client = instrument_anthropic(anthropic_client(server, is_async=True))

    await client.messages.create(model="claude-3-opus-20240229", max_tokens=64, messages=MESSAGES)

    a = traced.only().attributes or {}
    assert a["observatory.cost.usd"] == pytest.approx((100 * 15 + 40 * 75) / 1e6)


def test_stream_takes_usage_from_start_and_delta_events(traced: Traced) -> None:
    events = anthropic_events(["Yes, ", "within 60 days."], cache_read=1000)
    server = Server().reply(sse(events))
    client = instrument_anthropic(anthropic_client(server))

    stream = client.messages.create(
        model="claude-3-5-haiku-latest", max_tokens=64, messages=MESSAGES, stream=True
    )
    texts = [e.delta.text for e in stream if e.type == "content_block_delta"]

    assert texts == ["Yes, ", "within 60 days."]
    a = traced.only().attributes or {}
    assert a["gen_ai.usage.input_tokens"] == 1030
    assert a["gen_ai.usage.output_tokens"] == 12
    assert a["gen_ai.response.finish_reasons"] == ("end_turn",)
    assert a["gen_ai.response.time_to_first_chunk"] >= 0
    assert a["observatory.cost.usd"] == pytest.approx((30 * 0.80 + 1000 * 0.08 + 12 * 4) / 1e6)


def _fail_stream_midway(client: anthropic.Anthropic) -> BaseException:
    try:
        for _ in client.messages.create(
            model="claude-3-5-haiku-latest", max_tokens=64, messages=MESSAGES, stream=True
        ):
            pass
    except Exception as exc:
        return exc
    raise AssertionError("the stream was meant to fail midway")


def test_stream_failing_midway_marks_error_and_reraises_unchanged(traced: Traced) -> None:
    def failing_server() -> Server:
        return Server().reply(sse(anthropic_events(["a", "b"]), fail_after=3))

    bare = _fail_stream_midway(anthropic_client(failing_server()))
    traced.exporter.clear()  # the uninstrumented SDK's own span, if its version emits one
    raised = _fail_stream_midway(instrument_anthropic(anthropic_client(failing_server())))

    assert type(raised) is type(bare)
    assert isinstance(raised, anthropic.APIConnectionError | httpx2.ReadError)
    span = traced.only()
    assert span.status.status_code is StatusCode.ERROR
    assert (span.attributes or {})["error.type"] == type(raised).__qualname__
    assert (span.events[0].attributes or {})["exception.type"].endswith(type(raised).__qualname__)
    assert (span.attributes or {})["gen_ai.usage.input_tokens"] == 30


def test_tool_use_recorded(traced: Traced) -> None:
    tool_use = {"id": "toolu_1", "name": "book_appointment", "input": {"service": "bike service"}}
    server = Server().reply(json_response(anthropic_message(text=None, tool_use=tool_use)))
    client = instrument_anthropic(anthropic_client(server), capture_content=True, redactor=str)

    client.messages.create(model="claude-3-5-haiku-latest", max_tokens=64, messages=MESSAGES)

    a = traced.only().attributes or {}
    assert a["observatory.tool_call.names"] == ("book_appointment",)
    output = json.loads(str(a["gen_ai.output.messages"]))
    assert json.loads(output[0]["parts"][0]["arguments"]) == {"service": "bike service"}


def test_rate_limit_marks_span_and_caller_gets_sdk_error(traced: Traced) -> None:
    error = {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}
    server = Server().reply(json_response(error, status=429))
    client = instrument_anthropic(anthropic_client(server))

    with pytest.raises(anthropic.RateLimitError):
        client.messages.create(model="claude-3-5-haiku-latest", max_tokens=64, messages=MESSAGES)

    assert (traced.only().attributes or {})["error.type"] == "429"


def test_unknown_model_is_unpriced_not_free(traced: Traced) -> None:
    server = Server().reply(json_response(anthropic_message(model="claude-9-mystery")))
    client = instrument_anthropic(anthropic_client(server))

    client.messages.create(model="claude-9-mystery", max_tokens=64, messages=MESSAGES)

    a = traced.only().attributes or {}
    assert a["observatory.cost.status"] == "unpriced"
    assert "observatory.cost.usd" not in a


def test_stream_helper_span_ends_with_the_stream(traced: Traced) -> None:
    server = Server().reply(sse(anthropic_events(["Boots ", "qualify."])))
    client = instrument_anthropic(anthropic_client(server))

    with client.messages.stream(
        model="claude-3-5-haiku-latest", max_tokens=64, messages=MESSAGES
    ) as stream:
        assert traced.spans() == []
        text = "".join(stream.text_stream)
        final = stream.get_final_message()

    assert text == "Boots qualify."
    assert final.usage.output_tokens == 12
    a = traced.only().attributes or {}
    assert a["gen_ai.request.stream"] is True
    assert a["gen_ai.usage.output_tokens"] == 12
    assert a["gen_ai.response.time_to_first_chunk"] >= 0
    assert a["observatory.cost.status"] == "priced"


async def test_async_stream_helper_is_traced(traced: Traced) -> None:
    server = Server().reply(sse(anthropic_events(["Yes."])))
    client = instrument_anthropic(anthropic_client(server, is_async=True))

    async with client.messages.stream(
        model="claude-3-5-haiku-latest", max_tokens=64, messages=MESSAGES
    ) as stream:
        texts = [text async for text in stream.text_stream]

    assert texts == ["Yes."]
    assert (traced.only().attributes or {})["gen_ai.usage.input_tokens"] == 30


def test_one_hour_cache_writes_are_read_and_billed_at_twice_the_input_rate(
    traced: Traced,
) -> None:
    body = anthropic_message(
        model="claude-haiku-4-5-20251001", input_tokens=100, output_tokens=0, cache_write=500
    )
    body["usage"]["cache_creation"] = {
        "ephemeral_5m_input_tokens": 300,
        "ephemeral_1h_input_tokens": 200,
    }
    client = instrument_anthropic(anthropic_client(Server().reply(json_response(body))))

    client.messages.create(model="claude-haiku-4-5", max_tokens=64, messages=MESSAGES)

    a = traced.only().attributes or {}
    assert a["observatory.usage.cache_creation_1h.input_tokens"] == 200
    assert a["observatory.cost.source"] == "genai-prices"
    # 100 × $1 + 300 × $1.25 + 200 × $2 per 1M = 875 µ$
    assert a["observatory.cost.usd"] == pytest.approx(0.000875, abs=1e-12)
