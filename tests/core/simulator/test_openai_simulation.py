"""The simulator through the real OpenAI and Azure OpenAI SDKs, sync and async."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx2
import jsonschema
import numpy as np
import openai
import pytest

from core.tokens import count_tokens
from tests.core.simulator.conftest import BASE_URL, fake_embed

ORDER_RESULT = {
    "order_number": "ORD-10042",
    "status": "in_transit",
    "carrier": "UPS",
    "tracking_number": "1Z999AA10123456784",
    "eta": "2026-11-26",
}
TRIAGE_SCHEMA = {
    "type": "object",
    "properties": {
        "intent": {"type": "string", "enum": ["order_status", "returns", "appointment", "other"]},
        "sentiment": {"type": "string", "enum": ["positive", "neutral", "negative"]},
        "order_number": {"type": ["string", "null"]},
        "urgent": {"type": "boolean"},
        "summary": {"type": "string"},
    },
    "required": ["intent", "sentiment", "order_number", "urgent", "summary"],
    "additionalProperties": False,
}


def ask(client: openai.OpenAI, question: str, **options: Any) -> Any:
    messages = options.pop("messages", [{"role": "user", "content": question}])
    return client.chat.completions.create(model="gpt-4o-mini", messages=messages, **options)


def tool_conversation() -> list[dict[str, Any]]:
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "get_order_status", "arguments": '{"order_number": "ORD-10042"}'},
    }
    return [
        {"role": "user", "content": "Where is my order ORD-10042?"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_1", "content": json.dumps(ORDER_RESULT)},
    ]


def test_answer_quotes_and_cites_the_sources(openai_client, sources_system):
    question = "How long do I have to send something back, and when is my money refunded?"
    reply = ask(
        openai_client,
        question,
        messages=[
            {"role": "system", "content": sources_system},
            {"role": "user", "content": question},
        ],
    )
    text = reply.choices[0].message.content
    assert "30 days" in text
    assert "5–7 business days" in text
    assert "[1]" in text
    assert "[2]" not in text


def test_question_the_sources_do_not_cover_gets_an_honest_answer(openai_client, sources_system):
    question = "Do you sell kayaks?"
    reply = ask(
        openai_client,
        question,
        messages=[
            {"role": "system", "content": sources_system},
            {"role": "user", "content": question},
        ],
    )
    text = reply.choices[0].message.content
    assert "don't have information" in text
    assert "agents" in text
    assert "[1]" not in text


def test_greeting_gets_a_greeting(openai_client):
    text = ask(openai_client, "Hello!").choices[0].message.content
    assert text.startswith(("Hello", "Hi"))
    assert "help" in text


def test_usage_counts_real_tokens_and_model_is_a_snapshot(openai_client):
    reply = ask(openai_client, "Hello!")
    assert reply.model == "gpt-4o-mini-2024-07-18"
    assert reply.id.startswith("chatcmpl-")
    assert reply.usage.prompt_tokens == 3 + 3 + 1 + 2  # overhead + "user" + "Hello" + "!"
    assert reply.usage.completion_tokens > 5
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens


def test_order_question_calls_the_order_tool_with_the_order_number(openai_client, support_tools):
    reply = ask(openai_client, "Hi, where is my order ORD-10042? It's late.", tools=support_tools)
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert call.id.startswith("call_")
    assert call.function.name == "get_order_status"
    assert json.loads(call.function.arguments) == {"order_number": "ORD-10042"}


def test_availability_question_gets_service_date_and_place(openai_client, support_tools):
    reply = ask(
        openai_client, "Any gear fitting slots next Tuesday in Portland?", tools=support_tools
    )
    call = reply.choices[0].message.tool_calls[0]
    assert call.function.name == "check_availability"
    assert json.loads(call.function.arguments) == {
        "service": "gear fitting",
        "date": "2026-11-24",
        "location": "Portland store",
    }


def test_a_word_that_only_looks_like_a_tool_name_calls_no_tool(openai_client, support_tools):
    reply = ask(openai_client, "My card was declined at checkout, why?", tools=support_tools)

    assert reply.choices[0].message.tool_calls is None


def test_reschedule_gets_booking_and_new_start(openai_client, support_tools):
    reply = ask(openai_client, "Please move booking 42 to Dec 3 at 2pm", tools=support_tools)
    call = reply.choices[0].message.tool_calls[0]
    assert call.function.name == "reschedule_appointment"
    assert json.loads(call.function.arguments) == {
        "booking_id": 42,
        "new_start": "2026-12-03T14:00:00-08:00",
    }


def test_cancellation_carries_the_reason(openai_client, support_tools):
    reply = ask(
        openai_client, "Cancel ORD-10007 because I ordered the wrong size", tools=support_tools
    )
    call = reply.choices[0].message.tool_calls[0]
    assert call.function.name == "cancel_order"
    assert json.loads(call.function.arguments) == {
        "order_number": "ORD-10007",
        "reason": "I ordered the wrong size",
    }


def test_missing_order_number_is_asked_for_instead_of_guessed(openai_client, support_tools):
    reply = ask(openai_client, "Where's my package?", tools=support_tools)
    assert reply.choices[0].message.tool_calls is None
    assert "order number" in reply.choices[0].message.content


def test_unknown_tool_with_a_fitting_description_is_called(openai_client):
    tool = {
        "type": "function",
        "function": {
            "name": "lookup_shipment",
            "description": "Track where a customer's parcel is.",
            "parameters": {
                "type": "object",
                "properties": {"order_ref": {"type": "string"}},
                "required": ["order_ref"],
            },
        },
    }
    reply = ask(openai_client, "Can you track my parcel ORD-10099?", tools=[tool])
    call = reply.choices[0].message.tool_calls[0]
    assert (call.function.name, json.loads(call.function.arguments)) == (
        "lookup_shipment",
        {"order_ref": "ORD-10099"},
    )


def test_answer_from_tool_result_names_status_carrier_tracking_and_eta(
    openai_client, support_tools
):
    reply = ask(openai_client, "", messages=tool_conversation(), tools=support_tools)
    text = reply.choices[0].message.content
    assert reply.choices[0].message.tool_calls is None
    for fact in ("ORD-10042", "in transit", "UPS", "1Z999AA10123456784", "Thursday 26 November"):
        assert fact in text


@pytest.mark.parametrize("seed", range(6))
def test_an_answer_from_a_tool_result_keeps_a_space_before_its_closing_offer(
    make_transport, support_tools, seed
):
    http = httpx2.Client(transport=make_transport(seed=seed))
    client = openai.OpenAI(
        api_key="sim", base_url=f"{BASE_URL}/v1", max_retries=0, http_client=http
    )

    reply = ask(client, "", messages=tool_conversation(), tools=support_tools)

    assert not re.search(r"[.!?][A-Z]", reply.choices[0].message.content)


def test_stream_yields_the_same_answer_and_usage(openai_client, support_tools):
    plain = ask(openai_client, "", messages=tool_conversation(), tools=support_tools)
    stream = ask(
        openai_client,
        "",
        messages=tool_conversation(),
        tools=support_tools,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 10
    assert text == plain.choices[0].message.content
    assert chunks[-1].choices == []
    assert chunks[-1].usage.completion_tokens == plain.usage.completion_tokens
    assert chunks[-1].usage.prompt_tokens == plain.usage.prompt_tokens


def test_streamed_tool_call_reassembles(openai_client, support_tools):
    stream = ask(openai_client, "Where is ORD-10042?", tools=support_tools, stream=True)
    name, arguments = "", ""
    for chunk in stream:
        for delta in chunk.choices[0].delta.tool_calls or []:
            name += delta.function.name or ""
            arguments += delta.function.arguments or ""
    assert name == "get_order_status"
    assert json.loads(arguments) == {"order_number": "ORD-10042"}


def test_json_schema_output_parses_and_validates(openai_client):
    reply = ask(
        openai_client,
        "My order ORD-10011 never arrived and I'm really frustrated. Where is it?",
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "triage", "schema": TRIAGE_SCHEMA, "strict": True},
        },
    )
    value = json.loads(reply.choices[0].message.content)
    jsonschema.validate(value, TRIAGE_SCHEMA)
    assert value["intent"] == "order_status"
    assert value["sentiment"] == "negative"
    assert value["order_number"] == "ORD-10011"


def test_json_object_mode_follows_the_keys_in_the_instructions(openai_client):
    messages = [
        {
            "role": "system",
            "content": "Extract fields. Respond in JSON like "
            '{"customer_name": "", "order_number": "", "topic": '
            '"returns|shipping|other"}',
        },
        {"role": "user", "content": "Hi, I'm Priya Natarajan. Can I return ORD-10031?"},
    ]
    reply = ask(openai_client, "", messages=messages, response_format={"type": "json_object"})
    assert json.loads(reply.choices[0].message.content) == {
        "customer_name": "Priya Natarajan",
        "order_number": "ORD-10031",
        "topic": "returns",
    }


def test_summary_request_gets_an_extractive_summary(openai_client):
    transcript = (
        "Summarise this conversation in two sentences:\n"
        "Customer: My tent pole snapped on the first night of the trip. "
        "Agent: I'm sorry to hear that, which tent is it? "
        "Customer: It's the Ridgeline 2P from order ORD-10023. "
        "Agent: A replacement pole is covered by the warranty and ships within three days."
    )
    text = ask(openai_client, transcript).choices[0].message.content
    assert "tent pole snapped" in text
    assert "ORD-10023" in text
    assert "Summarise" not in text


def test_max_tokens_truncates_with_finish_reason_length(openai_client, sources_system):
    question = "How long do I have to return something?"
    reply = ask(
        openai_client,
        question,
        max_tokens=5,
        messages=[
            {"role": "system", "content": sources_system},
            {"role": "user", "content": question},
        ],
    )
    assert reply.choices[0].finish_reason == "length"
    assert reply.usage.completion_tokens <= 5


def test_same_request_same_answer_other_seed_may_differ(
    openai_client, make_transport, sources_system
):
    messages = [
        {"role": "system", "content": sources_system},
        {"role": "user", "content": "Is standard shipping free?"},
    ]
    first = ask(openai_client, "", messages=messages).choices[0].message.content
    second = ask(openai_client, "", messages=messages).choices[0].message.content
    assert first == second
    assert "[2]" in first


def test_embeddings_come_from_the_embedder_padded_to_the_model_size(openai_client):
    texts = ["refund for my boots", "boots refund please", "tent poles"]
    result = openai_client.embeddings.create(model="text-embedding-3-small", input=texts)
    vectors = np.array([item.embedding for item in result.data])
    assert vectors.shape == (3, 1536)
    np.testing.assert_allclose(vectors[:, :384], fake_embed(texts), atol=1e-6)
    assert not vectors[:, 384:].any()
    similarities = vectors @ vectors.T
    assert similarities[0, 1] > similarities[0, 2]
    assert result.usage.prompt_tokens == sum(
        count_tokens(t, "text-embedding-3-small") for t in texts
    )


def test_embeddings_honour_dimensions(openai_client):
    result = openai_client.embeddings.create(
        model="text-embedding-3-small", input="hello", dimensions=256
    )
    assert len(result.data[0].embedding) == 256


def test_azure_deployment_answers_with_the_mapped_model(azure_client, support_tools):
    reply = azure_client.chat.completions.create(
        model="support-chat",
        messages=[{"role": "user", "content": "Where is ORD-10042?"}],
        tools=support_tools,
    )
    assert reply.model == "gpt-4o-mini-2024-07-18"
    assert reply.choices[0].message.tool_calls[0].function.name == "get_order_status"


def test_unknown_model_is_not_found(openai_client):
    with pytest.raises(openai.NotFoundError, match="gpt-99"):
        openai_client.chat.completions.create(
            model="gpt-99", messages=[{"role": "user", "content": "hi"}]
        )


async def test_async_client_streams_and_answers(async_openai_client, support_tools):
    stream = await async_openai_client.chat.completions.create(
        model="gpt-4o", messages=tool_conversation(), tools=support_tools, stream=True
    )
    text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert "UPS" in text
    reply = await async_openai_client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "Cancel ORD-10005"}],
        tools=support_tools,
    )
    assert reply.choices[0].message.tool_calls[0].function.name == "cancel_order"


def test_embedding_model_on_the_chat_endpoint_is_a_bad_request(openai_client):
    with pytest.raises(openai.BadRequestError, match="not a chat model"):
        openai_client.chat.completions.create(
            model="text-embedding-3-small", messages=[{"role": "user", "content": "hi"}]
        )


def test_azure_embeddings_use_the_deployment_route(make_transport):
    transport = make_transport(deployments={"kb-embed": "text-embedding-3-small"})
    client = openai.AzureOpenAI(
        api_key="sim",
        azure_endpoint="https://simulator.invalid",
        api_version="2024-10-21",
        max_retries=0,
        http_client=httpx2.Client(transport=transport),
    )
    result = client.embeddings.create(model="kb-embed", input=["waterproof boots"])
    assert result.model == "text-embedding-3-small"
    assert len(result.data[0].embedding) == 1536
    assert transport.recorder.requests[-1].path == "/openai/deployments/kb-embed/embeddings"
