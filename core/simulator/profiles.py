"""Which model a request names, what the response calls it, and how fast it answers.

Models are looked up in the catalogue (``core.providers.catalogue``) by name, API id or dated
snapshot; the latency profile (time to first chunk, tokens per second, jitter) comes from there.
Each API serves only its own provider's models, as the real ones do: the OpenAI and Azure wires
OpenAI's, the Anthropic wire Anthropic's.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.simulator.messages import Provider

if TYPE_CHECKING:
    from core.providers.catalogue import ModelInfo

_DATED = re.compile(r"-\d{4}-\d{2}-\d{2}$|-\d{8}$|-\d{4}$")
OPENAI_SNAPSHOTS = {
    "gpt-4o": "gpt-4o-2024-08-06",
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "gpt-4.1-mini": "gpt-4.1-mini-2025-04-14",
    "gpt-4-turbo": "gpt-4-turbo-2024-04-09",
    "gpt-4": "gpt-4-0613",
    "gpt-3.5-turbo": "gpt-3.5-turbo-0125",
}
"""The dated snapshot OpenAI's API names in ``model`` when asked for an alias."""


@dataclass(frozen=True)
class ModelProfile:
    """A catalogue model as the simulator uses it."""

    name: str
    response_model: str
    kind: str
    ttft_ms: float
    tokens_per_s: float
    jitter: float
    embedding_dimensions: int | None = None

    def first_chunk_s(self, rng: random.Random) -> float:
        """Seconds before the first chunk, jittered by ± ``jitter`` (a fraction)."""
        return max(0.0, self.ttft_ms / 1000 * (1 + self.jitter * rng.uniform(-1, 1)))

    def per_token_s(self, rng: random.Random) -> float:
        """Seconds per generated token, jittered like ``first_chunk_s``."""
        rate = max(1.0, self.tokens_per_s * (1 + self.jitter * rng.uniform(-1, 1)))
        return 1 / rate


class ModelNotFound(LookupError):
    """The request names a model (or Azure deployment) the simulator does not serve."""


_CATALOGUE_PROVIDER = {
    Provider.OPENAI: "openai",
    Provider.AZURE: "openai",
    Provider.ANTHROPIC: "anthropic",
}
"""Whose catalogue models each wire serves."""


def resolve_model(
    requested: str, provider: Provider, deployments: Mapping[str, str]
) -> ModelProfile:
    """The profile for ``requested`` (an Azure deployment is first mapped through
    ``deployments``; a deployment not listed is read as a model name).

    ``response_model`` is what the real API would name: Anthropic the full API id, OpenAI and
    Azure the dated snapshot of the alias (``gpt-4o-mini`` → ``gpt-4o-mini-2024-07-18``).
    Raises ``ModelNotFound`` for a model the catalogue does not know or gives to another
    provider (``claude-3-opus`` on the OpenAI wire).
    """
    name = deployments.get(requested, requested) if provider is Provider.AZURE else requested
    info: ModelInfo | None = _lookup(name)
    if info is None or info.provider != _CATALOGUE_PROVIDER[provider]:
        raise ModelNotFound(name)
    if provider is Provider.ANTHROPIC:
        response_model = info.api_id
    elif _DATED.search(name):
        response_model = name
    else:
        response_model = OPENAI_SNAPSHOTS.get(info.api_id, info.api_id)
    return ModelProfile(
        name=info.name,
        response_model=response_model,
        kind=info.kind,
        ttft_ms=info.ttft_ms,
        tokens_per_s=info.tokens_per_s,
        jitter=info.jitter,
        embedding_dimensions=info.embedding_dimensions,
    )


def _lookup(name: str) -> ModelInfo | None:
    from core.providers.catalogue import get_model, list_models
    from core.providers.errors import UnknownModel

    try:
        return get_model(name)
    except UnknownModel:
        undated = _DATED.sub("", name)
        return next((info for info in list_models() if undated in (info.name, info.api_id)), None)
