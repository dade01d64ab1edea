"""The catalogue offers the models routes and the simulator name, with their limits and speed."""

from __future__ import annotations

import pytest

from core.providers.catalogue import get_model, list_models
from core.providers.errors import UnknownModel

REQUIRED = {
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4",
    "gpt-4-turbo",
    "gpt-3.5-turbo",
    "gpt-4.1-mini",
    "claude-3-5-sonnet",
    "claude-3-5-haiku",
    "claude-3-opus",
    "claude-3-sonnet",
    "claude-3-haiku",
    "text-embedding-3-small",
    "text-embedding-3-large",
}


def test_every_model_of_the_design_is_offered() -> None:
    assert {info.name for info in list_models()} >= REQUIRED


def test_short_names_and_api_ids_find_the_same_model() -> None:
    short = get_model("claude-3-opus")

    assert short.api_id == "claude-3-opus-20240229"
    assert get_model("claude-3-opus-20240229") == short
    assert (short.provider, short.kind, short.context_window) == ("anthropic", "chat", 200_000)


def test_chat_models_have_a_usable_speed_profile() -> None:
    for info in list_models("chat"):
        assert info.ttft_ms > 0 and info.tokens_per_s > 0 and 0 <= info.jitter < 1, info.name
        assert 0 < info.max_output_tokens <= info.context_window, info.name


def test_embedding_models_say_their_dimensions() -> None:
    embeddings = {info.name: info.embedding_dimensions for info in list_models("embedding")}

    assert embeddings == {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072}


def test_an_unknown_model_is_an_error_listing_the_choices() -> None:
    with pytest.raises(UnknownModel, match="gpt-4o-mini"):
        get_model("gpt-5-imaginary")
