"""Token counts from the real OpenAI tokenizer files, offline."""

from __future__ import annotations

import hashlib
from pathlib import Path

from core.tokens import count_message_tokens, count_tokens, encoding_name_for


def test_known_counts_for_each_encoding():
    assert count_tokens("Hello world", "gpt-4o") == 2
    assert count_tokens("Where is my order ORD-10001?", "gpt-4o") == 9
    assert count_tokens("Where is my order ORD-10001?", "gpt-4") == 9
    assert count_tokens("", "gpt-4o") == 0


def test_encodings_by_model_family():
    assert encoding_name_for("gpt-4o-mini-2024-07-18") == "o200k_base"
    assert encoding_name_for("gpt-4.1-mini") == "o200k_base"
    assert encoding_name_for("gpt-3.5-turbo") == "cl100k_base"
    assert encoding_name_for("text-embedding-3-small") == "cl100k_base"
    assert encoding_name_for("claude-3-5-haiku-20241022") == "cl100k_base"


def test_o200k_is_denser_than_cl100k_on_non_english_text():
    assert count_tokens("Привет, где мой заказ?", "gpt-4o") == 7
    assert count_tokens("Привет, где мой заказ?", "gpt-4") == 10


def test_special_token_text_is_counted_not_refused():
    assert count_tokens("<|endoftext|>", "gpt-4o") > 1


def test_message_overhead_matches_openai_cookbook():
    messages = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "Hello!", "name": "ann"},
    ]
    content = sum(count_tokens(v, "gpt-4o") for m in messages for v in m.values())
    assert count_message_tokens(messages, "gpt-4o") == content + 2 * 3 + 3 + 1


def test_vocabulary_files_are_installed_under_tiktoken_names(monkeypatch, tmp_path):
    import core.tokens as tokens

    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    tokens._install_bundled_file("cl100k_base", tokens._cache_dir())
    url = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"
    installed = Path(tmp_path) / hashlib.sha1(url.encode()).hexdigest()
    assert installed.name == "9b5ad71b2ce5302211f9c61530b329a4922fc6a4"
    assert hashlib.sha256(installed.read_bytes()).hexdigest() == tokens._SHA256["cl100k_base"]
