"""The simulator through the real Anthropic SDK, sync and async."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import pytest

from core.providers.anthropic_provider import AnthropicChatProvider
from core.providers.base import ChatChunk, ChatMessage, ChatRequest, ChatResponse

pytestmark = pytest.mark.filterwarnings("ignore:The model .* is deprecated:DeprecationWarning")
MODEL = "claude-3-5-haiku-20241022"


def create(client: anthropic.Anthropic, question: str, **options: Any) -> Any:
    messages = options.pop("messages", [{"role": "user", "content": question}])
    return client.messages.create(model=MODEL, max_tokens=400, messages=messages, **options)


def test_cited_answer_from_sources_with_usage(anthropic_client, sources_system):
    message = create(
        anthropic_client, "Is shipping free, and which carriers do you use?", system=sources_system
    )
    text = message.content[0].text
    assert "free on orders over $75 [2]" in text
    assert "UPS" in text
    assert message.id.startswith("msg_")
    assert message.model == MODEL
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens > 100
    assert message.usage.output_tokens > 10


def test_short_model_name_answers_with_the_full_id(anthropic_client):
    message = anthropic_client.messages.create(
        model="claude-3-5-haiku", max_tokens=50, messages=[{"role": "user", "content": "Hi"}]
    )
    assert message.model == MODEL


def test_tool_use_block_with_extracted_arguments(anthropic_client, anthropic_tools):
    message = create(
        anthropic_client, "Can I get a bike service slot tomorrow?", tools=anthropic_tools
    )
    assert message.stop_reason == "tool_use"
    use = next(block for block in message.content if block.type == "tool_use")
    assert use.id.startswith("toolu_")
    assert use.name == "check_availability"
    assert use.input == {"service": "bike service", "date": "2026-11-20"}


def test_answer_from_tool_result_blocks(anthropic_client, anthropic_tools):
    result = {
        "service": "gear fitting",
        "slots": [
            {"starts_at": "2026-11-24T17:00:00+00:00", "location": "Portland store"},
            {"starts_at": "2026-11-24T22:00:00+00:00", "location": "Portland store"},
        ],
    }
    messages = [
        {"role": "user", "content": "Any gear fitting slots next Tuesday in Portland?"},
        {
            "role": "assistant",
            "content": [
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "check_availability",
                    "input": {"service": "gear fitting", "date": "2026-11-24"},
                }
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": json.dumps(result)}
            ],
        },
    ]
    text = create(anthropic_client, "", messages=messages, tools=anthropic_tools).content[0].text
    assert "Tuesday 24 November at 9:00 AM PT (Portland store)" in text
    assert "2:00 PM PT" in text
    assert "book" in text


def test_stream_events_rebuild_the_message(anthropic_client, anthropic_tools):
    with anthropic_client.messages.stream(
        model=MODEL,
        max_tokens=400,
        tools=anthropic_tools,
        messages=[{"role": "user", "content": "Please cancel order ORD-10077"}],
    ) as stream:
        final = stream.get_final_message()
    use = next(block for block in final.content if block.type == "tool_use")
    assert (use.name, use.input) == ("cancel_order", {"order_number": "ORD-10077"})
    assert final.stop_reason == "tool_use"
    assert final.usage.output_tokens > 0


def test_forced_tool_gives_structured_json(anthropic_client):
    tool = {
        "name": "record_triage",
        "description": "Record the triage of a message.",
        "input_schema": {
            "type": "object",
            "properties": {
                "intent": {"type": "string", "enum": ["order_status", "returns", "other"]},
                "order_number": {"type": "string"},
                "customer_name": {"type": "string"},
            },
            "required": ["intent", "order_number", "customer_name"],
        },
    }
    message = create(
        anthropic_client,
        "This is Maria Lopez, I want to return ORD-10020.",
        tools=[tool],
        tool_choice={"type": "tool", "name": "record_triage"},
    )
    use = next(block for block in message.content if block.type == "tool_use")
    assert use.input == {
        "intent": "returns",
        "order_number": "ORD-10020",
        "customer_name": "Maria Lopez",
    }


TRIAGE_SCHEMA = {
    "type": "object",
    "properties": {
        "intent": {"type": "string", "enum": ["order_status", "returns", "other"]},
        "order_number": {"type": "string"},
    },
    "required": ["intent", "order_number"],
}


def test_a_forced_tool_streams_only_its_tool_use_block(anthropic_client):
    tool = {"name": "triage", "description": "Triage a message.", "input_schema": TRIAGE_SCHEMA}
    options: dict[str, Any] = {
        "model": MODEL,
        "max_tokens": 400,
        "tools": [tool],
        "tool_choice": {"type": "tool", "name": "triage"},
        "messages": [{"role": "user", "content": "Where is ORD-10020?"}],
    }
    with anthropic_client.messages.stream(**options) as stream:
        events = list(stream)
        streamed = stream.get_final_message()
    sent = anthropic_client.messages.create(**options)

    opened = [e.content_block.type for e in events if e.type == "content_block_start"]
    assert opened == ["tool_use"]
    assert [b.type for b in streamed.content] == [b.type for b in sent.content] == ["tool_use"]
    assert streamed.content[0].input == sent.content[0].input


def test_structured_output_streams_exactly_the_final_text(anthropic_client):
    provider = AnthropicChatProvider(anthropic_client, simulated=True)
    schema_format = {"type": "json_schema", "json_schema": {"name": "t", "schema": TRIAGE_SCHEMA}}
    request = ChatRequest(
        "claude-3-5-haiku",
        [ChatMessage("user", "Where is ORD-10020?")],
        response_format=schema_format,
    )

    items = list(provider.stream(request))

    final = items[-1]
    assert isinstance(final, ChatResponse)
    streamed = "".join(item.text for item in items if isinstance(item, ChatChunk))
    assert streamed == final.text == provider.chat(request).text
    assert json.loads(final.text) == {"intent": "order_status", "order_number": "ORD-10020"}


def test_with_auto_tool_choice_a_short_preamble_precedes_the_tool_call(
    anthropic_client, anthropic_tools
):
    message = create(anthropic_client, "Where is my order ORD-10020?", tools=anthropic_tools)

    assert [b.type for b in message.content] == ["text", "tool_use"]
    assert message.content[0].text == "Let me look that up for you."


def test_json_instruction_gets_json_text(anthropic_client):
    message = create(
        anthropic_client,
        "Where is ORD-10003? It is two weeks late, terrible service.",
        system='Classify the message. Respond only with JSON: {"sentiment": '
        '"positive|neutral|negative", "order_number": ""}',
    )
    assert json.loads(message.content[0].text) == {
        "sentiment": "negative",
        "order_number": "ORD-10003",
    }


def test_count_tokens_endpoint(anthropic_client):
    counted = anthropic_client.messages.count_tokens(
        model=MODEL, messages=[{"role": "user", "content": "Where is my order?"}]
    )
    answered = create(anthropic_client, "Where is my order?")
    assert counted.input_tokens == answered.usage.input_tokens


async def test_async_stream_text(async_anthropic_client, sources_system):
    async with async_anthropic_client.messages.stream(
        model=MODEL,
        max_tokens=400,
        system=sources_system,
        messages=[{"role": "user", "content": "How long do refunds take?"}],
    ) as stream:
        pieces = [piece async for piece in stream.text_stream]
    assert len(pieces) > 5
    assert "5–7 business days" in "".join(pieces)
