"""After a tool refuses, the simulated model tries the tool the error suggests (once), or tells
the customer what went wrong in plain words, never the instructions meant for the model."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import openai
import pytest

from core.simulator.tool_answers import describe_tool_result

SLOT_TAKEN = (
    "There is no free bike service slot at 2026-11-26T10:00-08:00 at the Seattle store. Call "
    "check_availability for that day and offer the customer one of the free times."
)
FREE_SLOTS = {
    "service": "bike service",
    "date": "2026-11-26",
    "location": "Seattle store",
    "slots": [
        {"start": "2026-11-26T13:00-08:00", "location": "Seattle store"},
        {"start": "2026-11-26T15:00-08:00", "location": "Seattle store"},
    ],
}
LEAKS = ("check_availability", "Call ", "offer the customer", "2026-11-26T10:00")


def call(call_id: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": json.dumps(arguments)},
    }


def reschedule_refused() -> list[dict[str, Any]]:
    move = call("call_1", "reschedule_appointment", {"new_start": "2026-11-26T10:00:00-08:00"})
    return [
        {"role": "user", "content": "Can you move my bike service to next Thursday at 10am?"},
        {"role": "assistant", "content": None, "tool_calls": [move]},
        {"role": "tool", "tool_call_id": "call_1", "content": json.dumps({"error": SLOT_TAKEN})},
    ]


def then_checked(result: dict[str, Any]) -> list[dict[str, Any]]:
    check = call(
        "call_2",
        "check_availability",
        {"service": "bike service", "date": "2026-11-26", "location": "Seattle store"},
    )
    return [
        *reschedule_refused(),
        {"role": "assistant", "content": None, "tool_calls": [check]},
        {"role": "tool", "tool_call_id": "call_2", "content": json.dumps(result)},
    ]


def ask(client: openai.OpenAI, messages: list[dict[str, Any]], tools: Any) -> Any:
    options: dict[str, Any] = {"tools": tools} if tools else {}
    return client.chat.completions.create(model="gpt-4o-mini", messages=messages, **options)


def test_a_taken_slot_leads_to_the_availability_check_the_error_suggests(
    openai_client, support_tools
):
    message = ask(openai_client, reschedule_refused(), support_tools).choices[0].message

    (follow_up,) = message.tool_calls
    assert follow_up.function.name == "check_availability"
    assert json.loads(follow_up.function.arguments) == {
        "service": "bike service",
        "date": "2026-11-26",
        "location": "Seattle store",
    }


def test_after_the_check_the_customer_hears_the_problem_and_the_free_times(
    openai_client, support_tools
):
    reply = ask(openai_client, then_checked(FREE_SLOTS), support_tools).choices[0]

    assert not reply.message.tool_calls
    text = reply.message.content
    assert "no free bike service slot at Thursday 26 November at 10:00 AM PT" in text
    assert "1:00 PM PT" in text and "3:00 PM PT" in text
    assert not any(leak in text for leak in LEAKS)


def test_the_suggested_tool_is_called_once_per_turn_never_in_a_loop(openai_client, support_tools):
    reply = ask(openai_client, then_checked({"error": SLOT_TAKEN}), support_tools).choices[0]

    assert not reply.message.tool_calls
    text = reply.message.content
    assert text.count("no free bike service slot") == 1  # the same refusal is told once
    assert not any(leak in text for leak in LEAKS)


def test_without_tools_on_offer_the_problem_is_explained_in_customer_words(openai_client):
    text = ask(openai_client, reschedule_refused(), None).choices[0].message.content

    assert "There is no free bike service slot at Thursday 26 November at 10:00 AM PT" in text
    assert not any(leak in text for leak in LEAKS)


def test_claude_follows_up_the_same_way(anthropic_client, anthropic_tools):
    messages = [
        {"role": "user", "content": "Can you move my bike service to next Thursday at 10am?"},
        {
            "role": "assistant",
            "content": [
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "reschedule_appointment",
                    "input": {"new_start": "2026-11-26T10:00:00-08:00"},
                }
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": json.dumps({"error": SLOT_TAKEN}),
                    "is_error": True,
                }
            ],
        },
    ]
    message = anthropic_client.messages.create(
        model="claude-3-5-haiku", max_tokens=300, messages=messages, tools=anthropic_tools
    )

    (use,) = [block for block in message.content if block.type == "tool_use"]
    assert (use.name, use.input["date"]) == ("check_availability", "2026-11-26")
    assert isinstance(message, anthropic.types.Message)


@pytest.mark.parametrize(
    ("error", "said", "unsaid"),
    [
        (
            "2026-11-10 is in the past; ask for a date from today on.",
            "Tuesday 10 November is in the past. Could you give me a date from today on?",
            "ask for",
        ),
        (
            "2026-11-10T09:00-08:00 has already passed; choose a later time.",
            "has already passed. Could you choose a later time?",
            "; choose",
        ),
        (
            "'someday' is not a date; send it as YYYY-MM-DD.",
            "'someday' is not a date.",
            "YYYY",
        ),
        (
            "Invalid arguments for reschedule_appointment: new_start: 'x' is not a 'date-time'.",
            "something went wrong on our side",
            "reschedule_appointment",
        ),
        (
            "cancel_order failed unexpectedly; do not retry it.",
            "something went wrong on our side",
            "retry",
        ),
    ],
)
def test_tool_errors_reach_the_customer_without_the_models_instructions(
    error: str, said: str, unsaid: str
) -> None:
    text = describe_tool_result("any_tool", json.dumps({"error": error}))

    assert said in text
    assert unsaid not in text
