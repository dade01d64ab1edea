"""Repeated long prompts report cached tokens the way each provider bills them."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.filterwarnings("ignore:The model .* is deprecated:DeprecationWarning")
LONG_POLICY = "Northwind Outfitters policy. " + " ".join(
    f"Rule {n}: be kind, cite the sources, and never guess order details." for n in range(150)
)


def test_openai_reports_the_repeated_prefix_as_cached(openai_client):
    first_turn = [
        {"role": "system", "content": LONG_POLICY},
        {"role": "user", "content": "Where is ORD-10001?"},
    ]
    first = openai_client.chat.completions.create(model="gpt-4o", messages=first_turn)
    second_turn = [
        *first_turn,
        {"role": "assistant", "content": "Let me check."},
        {"role": "user", "content": "Thanks, and ORD-10002?"},
    ]
    second = openai_client.chat.completions.create(model="gpt-4o", messages=second_turn)
    assert first.usage.prompt_tokens_details.cached_tokens == 0
    cached = second.usage.prompt_tokens_details.cached_tokens
    assert cached % 128 == 0
    assert 1024 <= cached <= first.usage.prompt_tokens <= second.usage.prompt_tokens


def test_short_prompts_are_never_cached(openai_client):
    messages = [{"role": "user", "content": "Hi"}]
    openai_client.chat.completions.create(model="gpt-4o", messages=messages)
    again = openai_client.chat.completions.create(model="gpt-4o", messages=messages)
    assert again.usage.prompt_tokens_details.cached_tokens == 0


def test_anthropic_writes_then_reads_the_cache_and_excludes_it_from_input(anthropic_client):
    system = [{"type": "text", "text": LONG_POLICY, "cache_control": {"type": "ephemeral"}}]

    def ask(question: str):
        return anthropic_client.messages.create(
            model="claude-3-5-haiku",
            max_tokens=200,
            system=system,
            messages=[{"role": "user", "content": question}],
        )

    first, second = ask("Where is ORD-10001?"), ask("Where is ORD-10002?")
    assert first.usage.cache_creation_input_tokens > 1024
    assert first.usage.cache_read_input_tokens == 0
    assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens
    assert second.usage.cache_creation_input_tokens == 0
    assert second.usage.input_tokens < 30
