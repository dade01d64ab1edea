"""The model catalogue: which models the app offers, who serves them, and how fast they answer.

The data lives in ``catalogue.json`` beside this module (data, not code). ``name`` is what routes
and settings say (``claude-3-5-haiku``); ``api_id`` is what the SDK sends
(``claude-3-5-haiku-20241022``). ``ttft_ms``, ``tokens_per_s`` and ``jitter`` are the simulator's
speed profile.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from core.providers.errors import UnknownModel

ProviderName = Literal["openai", "anthropic", "azure"]
ModelKind = Literal["chat", "embedding"]

CATALOGUE_FILE = Path(__file__).with_name("catalogue.json")


@dataclass(frozen=True)
class ModelInfo:
    """One offered model."""

    name: str
    api_id: str
    provider: ProviderName
    kind: ModelKind
    context_window: int
    max_output_tokens: int
    ttft_ms: float
    tokens_per_s: float
    jitter: float
    embedding_dimensions: int | None = None


@cache
def _load() -> dict[str, ModelInfo]:
    raw = json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))
    return {entry["name"]: ModelInfo(**entry) for entry in raw["models"]}


def get_model(name: str) -> ModelInfo:
    """The catalogue entry for ``name`` (a short name or an API id); raises ``UnknownModel``."""
    models = _load()
    if name in models:
        return models[name]
    for info in models.values():
        if info.api_id == name:
            return info
    known = ", ".join(models)
    raise UnknownModel(f"The model {name!r} is not in the catalogue; choose one of: {known}.")


def list_models(kind: ModelKind | None = None) -> list[ModelInfo]:
    """Every offered model in catalogue order, optionally only chat or only embedding ones."""
    return [info for info in _load().values() if kind is None or info.kind == kind]
