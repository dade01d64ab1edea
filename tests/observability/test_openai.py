"""OpenAI and Azure OpenAI calls become priced GenAI spans; the caller sees no difference."""

from __future__ import annotations

import json

import httpx2
import openai
import pytest
from opentelemetry.trace import SpanKind, StatusCode
from pydantic import BaseModel

from observability import context, instrument_openai, span
from tests.observability.conftest import Traced
from tests.observability.wire import (
    Server,
    chat_completion,
    json_response,
    openai_chunks,
    openai_client,
    sse,
    tool_call,
)

MESSAGES = [
    {"role": "system", "content": "You are Northwind's assistant."},
    {"role": "user", "content": "Where is my order? Email me at jane@example.com"},
]


def test_chat_span_has_genai_attributes_and_exact_cost(traced: Traced) -> None:
    server = Server().reply(json_response(chat_completion(cached_tokens=200)))
    client = instrument_openai(openai_client(server))

    result = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, max_tokens=300)

    assert result.choices[0].message.content == "Your order ORD-10001 shipped."
    span = traced.only()
    assert span.name == "chat gpt-4o"
    assert span.kind is SpanKind.CLIENT
    a = span.attributes or {}
    assert a["gen_ai.operation.name"] == "chat"
    assert a["gen_ai.provider.name"] == "openai"
    assert a["gen_ai.request.model"] == "gpt-4o"
    assert a["gen_ai.response.model"] == "gpt-4o-2024-08-06"
    assert a["gen_ai.request.max_tokens"] == 300
    assert a["gen_ai.request.stream"] is False
    assert a["gen_ai.usage.input_tokens"] == 1200
    assert a["gen_ai.usage.output_tokens"] == 80
    assert a["gen_ai.usage.cache_read.input_tokens"] == 200
    assert a["gen_ai.response.finish_reasons"] == ("stop",)
    assert a["server.address"] == "api.test"
    # 1000 × 2.50 + 200 × 1.25 + 80 × 10.00 per 1M = 0.00355
    assert a["observatory.cost.usd"] == pytest.approx(0.00355, abs=1e-12)
    assert a["observatory.cost.status"] == "priced"
    assert "observatory.simulated" not in a


async def test_async_client_is_traced(traced: Traced) -> None:
    server = Server().reply(json_response(chat_completion(model="gpt-4o-mini-2024-07-18")))
    client = instrument_openai(openai_client(server, is_async=True))

    result = await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    assert result.usage.prompt_tokens == 1200
    a = traced.only().attributes or {}
    assert a["gen_ai.response.model"] == "gpt-4o-mini-2024-07-18"
    assert a["observatory.cost.usd"] == pytest.approx((1200 * 0.15 + 80 * 0.60) / 1e6)


def test_instrumenting_twice_makes_one_span_per_call(traced: Traced) -> None:
    server = Server().reply(json_response(chat_completion()))
    client = openai_client(server)

    assert instrument_openai(instrument_openai(client)) is client
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    assert len(traced.spans()) == 1


def test_stream_span_ends_at_exhaustion_with_usage_and_hidden_usage_chunk(traced: Traced) -> None:
    server = Server().reply(sse(openai_chunks(["Your ", "order ", "shipped."])))
    client = instrument_openai(openai_client(server))

    stream = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    assert traced.spans() == []
    chunks = list(stream)

    assert server.bodies[0]["stream_options"] == {"include_usage": True}
    assert all(chunk.choices for chunk in chunks), "the usage chunk the caller did not ask for"
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == "Your order shipped."
    a = traced.only().attributes or {}
    assert a["gen_ai.request.stream"] is True
    assert a["gen_ai.usage.input_tokens"] == 50
    assert a["gen_ai.usage.output_tokens"] == 3
    assert a["gen_ai.response.finish_reasons"] == ("stop",)
    assert 0 <= a["gen_ai.response.time_to_first_chunk"] <= 1
    assert a["observatory.cost.status"] == "priced"


def test_stream_with_caller_stream_options_shows_usage_chunk(traced: Traced) -> None:
    server = Server().reply(sse(openai_chunks(["Hi"])))
    client = instrument_openai(openai_client(server))

    chunks = list(
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
        )
    )

    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 3
    assert (traced.only().attributes or {})["gen_ai.usage.output_tokens"] == 3


def test_stream_closed_early_ends_span(traced: Traced) -> None:
    server = Server().reply(sse(openai_chunks(["a", "b", "c", "d"])))
    client = instrument_openai(openai_client(server))

    with client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True) as stream:
        next(stream)
        next(stream)

    span = traced.only()
    assert span.status.status_code is StatusCode.UNSET
    assert (span.attributes or {})["observatory.stream.closed_early"] is True
    assert (span.attributes or {})["observatory.cost.status"] == "not_applicable"


def test_stream_failing_midway_marks_error_and_reraises(traced: Traced) -> None:
    server = Server().reply(sse(openai_chunks(["a", "b", "c"]), fail_after=2))
    client = instrument_openai(openai_client(server))

    stream = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    with pytest.raises(openai.APIConnectionError):
        list(stream)

    span = traced.only()
    assert span.status.status_code is StatusCode.ERROR
    assert (span.attributes or {})["error.type"] == "APIConnectionError"
    assert span.events[0].name == "exception"


def test_stream_user_exception_propagates(traced: Traced) -> None:
    server = Server().reply(sse(openai_chunks(["a", "b"])))
    client = instrument_openai(openai_client(server))

    with (
        pytest.raises(KeyError, match="mine"),
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True) as stream,
    ):
        for _ in stream:
            raise KeyError("mine")

    assert len(traced.spans()) == 1


async def test_async_stream_is_traced(traced: Traced) -> None:
    server = Server().reply(sse(openai_chunks(["x", "y"])))
    client = instrument_openai(openai_client(server, is_async=True))

    stream = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    texts = [c.choices[0].delta.content async for c in stream]

    assert texts == ["", "x", "y", None]
    assert (traced.only().attributes or {})["gen_ai.usage.output_tokens"] == 3


def test_tool_calls_recorded_with_arguments_only_when_capturing(traced: Traced) -> None:
    calls = [tool_call("call_1", "lookup_order", {"order_number": "ORD-10001"})]
    body = chat_completion(content=None, tool_calls=calls, finish_reason="tool_calls")
    server = Server().reply(json_response(body)).reply(json_response(body))
    plain = instrument_openai(openai_client(server))
    capturing = instrument_openai(openai_client(server), capture_content=True, redactor=str.upper)

    plain.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    capturing.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    first, second = (s.attributes or {} for s in traced.spans())
    assert first["observatory.tool_call.names"] == ("lookup_order",)
    assert first["observatory.tool_call.ids"] == ("call_1",)
    assert "gen_ai.output.messages" not in first
    output = json.loads(str(second["gen_ai.output.messages"]))
    assert output[0]["parts"][0] == {
        "type": "tool_call",
        "id": "call_1",
        "name": "lookup_order",
        "arguments": '{"ORDER_NUMBER": "ORD-10001"}',
    }
    assert output[0]["finish_reason"] == "tool_calls"


def test_json_output_type_recorded(traced: Traced) -> None:
    server = Server().reply(json_response(chat_completion(content='{"intent": "refund"}')))
    client = instrument_openai(openai_client(server))

    client.chat.completions.create(
        model="gpt-4o",
        messages=MESSAGES,
        response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": {}}},
    )

    assert (traced.only().attributes or {})["gen_ai.output.type"] == "json"


def test_embeddings_span_priced_by_input_tokens(traced: Traced) -> None:
    body = {
        "object": "list",
        "model": "text-embedding-3-small",
        "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2, 0.3]}],
        "usage": {"prompt_tokens": 5000, "total_tokens": 5000},
    }
    server = Server().reply(json_response(body))
    client = instrument_openai(openai_client(server))

    client.embeddings.create(
        model="text-embedding-3-small", input=["tent"], encoding_format="float"
    )

    span = traced.only()
    a = span.attributes or {}
    assert span.name == "embeddings text-embedding-3-small"
    assert a["gen_ai.operation.name"] == "embeddings"
    assert a["gen_ai.usage.input_tokens"] == 5000
    assert a["gen_ai.embeddings.dimension.count"] == 3
    assert a["observatory.cost.usd"] == pytest.approx(5000 * 0.02 / 1e6)


def test_rate_limit_marks_span_and_caller_gets_sdk_error(traced: Traced) -> None:
    error = {"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit"}}
    server = Server().reply(json_response(error, status=429, headers={"retry-after": "2"}))
    client = instrument_openai(openai_client(server))

    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    assert caught.value.status_code == 429
    span = traced.only()
    assert span.status.status_code is StatusCode.ERROR
    a = span.attributes or {}
    assert a["error.type"] == "429"
    assert a["observatory.cost.status"] == "not_applicable"
    assert [e.name for e in span.events] == ["exception"]


def test_azure_is_priced_by_response_model_not_deployment(traced: Traced) -> None:
    server = Server().reply(json_response(chat_completion(model="gpt-4o-mini-2024-07-18")))
    client = instrument_openai(openai_client(server, azure=True))

    client.chat.completions.create(model="support-prod", messages=MESSAGES)

    a = traced.only().attributes or {}
    assert a["gen_ai.provider.name"] == "azure.ai.openai"
    assert a["gen_ai.request.model"] == "support-prod"
    assert a["observatory.cost.usd"] == pytest.approx((1200 * 0.15 + 80 * 0.60) / 1e6)


def test_simulator_calls_flagged_and_priced_like_the_real_model(traced: Traced) -> None:
    server = Server().reply(json_response(chat_completion(cached_tokens=200)))
    client = openai_client(server)
    client.base_url = "https://simulator.invalid/v1"
    instrument_openai(client)

    client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    a = traced.only().attributes or {}
    assert a["observatory.simulated"] is True
    assert a["observatory.cost.usd"] == pytest.approx(0.00355, abs=1e-12)


def test_context_ids_stamped_on_instrumentation_spans(traced: Traced) -> None:
    server = Server().reply(json_response(chat_completion()))
    client = instrument_openai(openai_client(server))

    with (
        context(conversation_id="conv-1", user_id="u-7", experiment="prompt-v2"),
        context(variant="B", scenario="returns"),
    ):
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    a = traced.only().attributes or {}
    assert a["observatory.conversation.id"] == "conv-1"
    assert a["observatory.user.id"] == "u-7"
    assert a["observatory.experiment.name"] == "prompt-v2"
    assert a["observatory.experiment.variant"] == "B"
    assert a["observatory.scenario"] == "returns"


def test_timeout_is_recorded_as_timeout(traced: Traced) -> None:
    def hang(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("no answer", request=request)

    client = instrument_openai(openai_client(hang))

    with pytest.raises(openai.APITimeoutError):
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    assert (traced.only().attributes or {})["error.type"] == "timeout"


class Intent(BaseModel):
    intent: str


def test_structured_parse_is_traced_as_json(traced: Traced) -> None:
    server = Server().reply(json_response(chat_completion(content='{"intent": "refund"}')))
    client = instrument_openai(openai_client(server))

    parsed = client.chat.completions.parse(
        model="gpt-4o", messages=MESSAGES, response_format=Intent
    )

    assert parsed.choices[0].message.parsed == Intent(intent="refund")
    a = traced.only().attributes or {}
    assert a["gen_ai.output.type"] == "json"
    assert a["observatory.cost.status"] == "priced"


def test_llm_span_nests_under_the_turn_span(traced: Traced) -> None:
    server = Server().reply(json_response(chat_completion()))
    client = instrument_openai(openai_client(server))

    with span("customer turn"):
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    turn, chat = traced.named("customer turn"), traced.named("chat gpt-4o")
    assert chat.parent is not None and chat.parent.span_id == turn.context.span_id
    assert chat.context.trace_id == turn.context.trace_id


def test_a_failed_calls_span_carries_its_type_not_the_providers_error_body(
    traced: Traced,
) -> None:
    body = "Your organization org-Acme42 key sk-live-77 is over quota; contact billing@acme.test"
    error = {"error": {"message": body, "type": "server_error", "code": None}}
    server = Server().reply(json_response(error, status=500))
    client = instrument_openai(openai_client(server))

    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    span = traced.only()
    assert (span.attributes or {})["error.type"] == "500"
    assert span.status.description == "InternalServerError (500)"
    [event] = span.events
    recorded = json.dumps(dict(event.attributes or {}))
    assert event.attributes is not None
    assert event.attributes["exception.type"].endswith("InternalServerError")
    for secret in ("org-Acme42", "sk-live-77", "billing@acme.test", "over quota"):
        assert secret not in recorded and secret not in (span.status.description or "")
