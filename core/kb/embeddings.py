"""The embedding model the knowledge base uses: the shipped local model or OpenAI's.

``vectors.embedding_model`` picks it. The local model makes its own ``embeddings {model}`` span
(provider ``local``, cost not applicable); OpenAI models go through the injected provider, whose
instrumented client (``observability.instrument_openai``) makes and prices that span. Without
``OPENAI_API_KEY`` that provider is the offline simulator, whose vectors are the local model's
padded to the OpenAI model's width: search works for demos, and ``describe()`` says it is simulated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal, Protocol

import numpy as np
from opentelemetry import trace
from opentelemetry.util.types import AttributeValue

from core.errors import KnowledgeBaseError, ProviderError
from core.kb.embedder import MODEL_NAME, LocalEmbedder
from core.providers.base import EmbeddingResult

TRACER_NAME: Final = "support_observatory.kb"
OPENAI_DIMENSIONS: Final = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072}
OPENAI_BATCH: Final = 256


@dataclass(frozen=True)
class EmbeddingStatus:
    """Where a knowledge base's vectors come from, for the status displays."""

    model: str
    mode: Literal["local", "openai", "simulated"]
    detail: str
    """One sentence for the user."""


class TextEmbedding(Protocol):
    """Turns texts into L2-normalised float32 rows."""

    @property
    def model_name(self) -> str: ...
    @property
    def dimension(self) -> int: ...
    def embed(self, texts: Sequence[str]) -> np.ndarray: ...
    def describe(self) -> EmbeddingStatus: ...


class EmbeddingClient(Protocol):
    """What we use of a provider: ``embed(texts, model)`` returning ``.vectors``, and whether
    it is the offline simulator."""

    simulated: bool

    def embed(self, texts: Sequence[str], model: str) -> EmbeddingResult: ...


class LocalTextEmbedding:
    """The shipped all-MiniLM-L6-v2; every call is an ``embeddings`` span."""

    def __init__(self, embedder: LocalEmbedder, tracer: trace.Tracer) -> None:
        self._embedder = embedder
        self._tracer = tracer
        self.model_name = embedder.model_name
        self.dimension = embedder.dimension

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for ``texts`` under one ``embeddings all-MiniLM-L6-v2`` span."""
        attributes: dict[str, AttributeValue] = {
            "gen_ai.operation.name": "embeddings",
            "gen_ai.provider.name": "local",
            "gen_ai.request.model": self.model_name,
            "gen_ai.response.model": self.model_name,
            "gen_ai.usage.input_tokens": sum(self._embedder.count_tokens(t) for t in texts),
            "gen_ai.embeddings.dimension.count": self.dimension,
            "observatory.cost.status": "not_applicable",
            "observatory.embeddings.inputs": len(texts),
        }
        with self._tracer.start_as_current_span(
            f"embeddings {self.model_name}", kind=trace.SpanKind.CLIENT, attributes=attributes
        ) as span:
            try:
                return self._embedder.embed(texts)
            except Exception as exc:
                span.set_attribute("error.type", type(exc).__qualname__)
                raise

    def describe(self) -> EmbeddingStatus:
        """Always local: the model file ships with the app."""
        return EmbeddingStatus(
            self.model_name, "local", f"{self.model_name}, run offline from the shipped model."
        )


class OpenAITextEmbedding:
    """An OpenAI embedding model called through the injected (instrumented) client."""

    def __init__(self, client: EmbeddingClient, model_name: str) -> None:
        self._client = client
        self.model_name = model_name
        self.dimension = OPENAI_DIMENSIONS[model_name]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for ``texts``, asked for in batches of ``OPENAI_BATCH``."""
        rows: list[list[float]] = []
        for start in range(0, len(texts), OPENAI_BATCH):
            batch = list(texts[start : start + OPENAI_BATCH])
            try:
                answer = self._client.embed(batch, self.model_name)
            except ProviderError as exc:
                raise KnowledgeBaseError(
                    f"OpenAI could not embed the text ({type(exc).__name__}); check the API key "
                    "and try again, or set vectors.embedding_model to all-MiniLM-L6-v2."
                ) from exc
            rows += answer.vectors
        vectors = np.asarray(rows, dtype=np.float32).reshape(len(texts), self.dimension)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    def describe(self) -> EmbeddingStatus:
        """OpenAI's own vectors, or the simulator's when no key is set."""
        if not self._client.simulated:
            return EmbeddingStatus(
                self.model_name, "openai", f"{self.model_name} from the OpenAI API."
            )
        return EmbeddingStatus(
            self.model_name,
            "simulated",
            f"{self.model_name} is simulated: with no OPENAI_API_KEY the offline simulator "
            f"answers with {MODEL_NAME} vectors padded to {self.dimension} numbers, so search "
            "works but is not OpenAI's; set OPENAI_API_KEY, or VECTORS__EMBEDDING_MODEL to "
            f"{MODEL_NAME}.",
        )


def create_text_embedding(
    model_name: str,
    local: LocalEmbedder,
    client: EmbeddingClient | None,
    tracer: trace.Tracer,
) -> TextEmbedding:
    """The embedding for ``vectors.embedding_model``; OpenAI models need ``client``."""
    if model_name == MODEL_NAME:
        return LocalTextEmbedding(local, tracer)
    if model_name not in OPENAI_DIMENSIONS:
        known = ", ".join([MODEL_NAME, *OPENAI_DIMENSIONS])
        raise KnowledgeBaseError(
            f"vectors.embedding_model {model_name!r} is unknown; use one of {known}."
        )
    if client is None:
        raise KnowledgeBaseError(
            f"vectors.embedding_model is {model_name} but no OpenAI client is configured; "
            "set OPENAI_API_KEY or use all-MiniLM-L6-v2."
        )
    return OpenAITextEmbedding(client, model_name)
