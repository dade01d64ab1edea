"""Requests shaped like the ones the conversation engine sends."""

from __future__ import annotations

import json
from typing import Any

import jsonschema

TRANSCRIPT = """Customer: Hi, my name is Dana Whitfield. My order ORD-10057 was supposed to arrive \
last week.
Assistant: Let me check that for you.
Tool: {"order_number": "ORD-10057", "status": "delayed", "carrier": "FedEx", "eta": "2026-11-27"}
Assistant: Order ORD-10057 is delayed with FedEx. It should arrive by Friday 27 November.
Customer: That's really frustrating, I need the tent for a trip on the 28th. Can you do anything?"""
SUMMARY_INSTRUCTIONS = (
    "Summarise this customer-support conversation for the assistant who continues it. Keep "
    "order numbers, dates, amounts, what was promised and what is still open."
)
DRAFT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "summary": {"type": "string", "minLength": 1},
        "intent": {
            "type": "string",
            "enum": [
                "order_status",
                "cancellation",
                "return_or_refund",
                "shipping",
                "warranty",
                "complaint",
                "other",
            ],
        },
        "sentiment": {"type": "string", "enum": ["positive", "neutral", "negative"]},
        "reply": {"type": "string", "minLength": 1},
    },
    "required": ["summary", "intent", "sentiment", "reply"],
    "additionalProperties": False,
}


def chat(client: Any, system: str, user: str, **options: Any) -> Any:
    messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    return client.chat.completions.create(model="gpt-4o", messages=messages, **options)


def test_transcript_summary_keeps_request_findings_and_open_question(openai_client):
    text = chat(openai_client, SUMMARY_INSTRUCTIONS, TRANSCRIPT).choices[0].message.content
    assert text.startswith("Dana Whitfield wrote about: My order ORD-10057")
    assert "delayed with FedEx" in text
    assert "Friday 27 November" in text
    assert "Still open:" in text and "trip on the 28th" in text
    assert '"status"' not in text


def test_agent_draft_json_validates_and_reads_the_conversation(openai_client):
    response_format = {
        "type": "json_schema",
        "json_schema": {"name": "agent_draft", "schema": DRAFT_SCHEMA},
    }
    reply = chat(
        openai_client,
        "Read the conversation and return JSON.",
        TRANSCRIPT,
        response_format=response_format,
    )
    draft = json.loads(reply.choices[0].message.content)
    jsonschema.validate(draft, DRAFT_SCHEMA)
    assert draft["intent"] == "order_status"
    assert draft["sentiment"] == "negative"
    assert draft["reply"].startswith("Hi Dana")
    assert "ORD-10057" in draft["reply"]


def test_relative_dates_count_from_the_prompts_today(openai_client, support_tools):
    system = "You are the assistant. The customer is Ann. Today is Monday 07 December 2026."
    reply = chat(openai_client, system, "Any repair drop-off slots tomorrow?", tools=support_tools)
    arguments = json.loads(reply.choices[0].message.tool_calls[0].function.arguments)
    assert arguments == {"service": "repair drop-off", "date": "2026-12-08"}


def test_earlier_summary_in_the_prompt_is_not_a_summary_request(openai_client, support_tools):
    system = "Summary of the earlier conversation:\nThe customer asked about boots."
    reply = chat(openai_client, system, "Where is ORD-10001?", tools=support_tools)
    assert reply.choices[0].message.tool_calls[0].function.name == "get_order_status"


def test_tool_is_not_called_twice_for_the_same_arguments(openai_client, support_tools):
    call = {
        "id": "call_9",
        "type": "function",
        "function": {"name": "get_order_status", "arguments": '{"order_number": "ORD-10001"}'},
    }
    messages = [
        {"role": "user", "content": "Where is ORD-10001?"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {
            "role": "tool",
            "tool_call_id": "call_9",
            "content": '{"order_number": "ORD-10001", "status": "shipped"}',
        },
        {"role": "assistant", "content": "Order ORD-10001 has shipped."},
        {"role": "user", "content": "OK, and where is ORD-10001 now?"},
    ]
    again = openai_client.chat.completions.create(
        model="gpt-4o", messages=messages, tools=support_tools
    )
    assert again.choices[0].message.tool_calls is None
    assert "ORD-10001 has shipped" in again.choices[0].message.content
    messages[-1] = {"role": "user", "content": "And where is ORD-10002?"}
    other = openai_client.chat.completions.create(
        model="gpt-4o", messages=messages, tools=support_tools
    )
    assert json.loads(other.choices[0].message.tool_calls[0].function.arguments) == {
        "order_number": "ORD-10002"
    }
