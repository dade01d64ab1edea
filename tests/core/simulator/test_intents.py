"""A tool is called for the words that ask for it, not for words that merely contain them."""

from __future__ import annotations

from typing import Any

import openai

TICKET: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "create_ticket",
        "description": (
            "Escalate to a human support agent: open a ticket and hand this conversation over. "
            "Use when the customer asks for a person, is upset, or you cannot help."
        ),
        "parameters": {
            "type": "object",
            "properties": {"subject": {"type": "string"}, "description": {"type": "string"}},
            "required": ["subject", "description"],
        },
    },
}


def tool_calls(client: openai.OpenAI, question: str) -> list[str]:
    reply = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": question}],
        tools=[TICKET],
    )
    return [call.function.name for call in reply.choices[0].message.tool_calls or []]


def test_personal_data_is_not_a_request_for_a_person(openai_client: openai.OpenAI) -> None:
    question = "What personal data do you keep about me and can I delete it?"

    assert tool_calls(openai_client, question) == []


def test_asking_for_a_person_still_opens_a_ticket(openai_client: openai.OpenAI) -> None:
    question = "This isn't helping. I want to talk to a real person."

    assert tool_calls(openai_client, question) == ["create_ticket"]
