"""The seed help centre's embedding vectors, shipped so the first start does not compute them.

``seed/data/seed_vectors.npz`` maps the sha256 of each chunk's embedded text (with the model's
name) to its vector. While the seed documents are ingested, ``shipped_vectors(kb)`` answers the
knowledge base's embedding calls from it; a chunk that is not there — a changed or new seed
document, another embedding model — is embedded as usual. ``python -m seed.vectors`` writes
the file again from a fresh ingest of every seed document (do it after editing a seed document
or how chunks are indexed;
``tests/seed/test_vectors.py`` fails until then).
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import numpy as np

from core.kb import KnowledgeBase
from core.kb.embeddings import EmbeddingStatus, TextEmbedding

VECTORS_FILE = Path(__file__).parent / "data" / "seed_vectors.npz"


def text_key(model_name: str, text: str) -> str:
    """The file's key for ``text`` embedded by ``model_name``."""
    return hashlib.sha256(f"{model_name}\n{text}".encode()).hexdigest()


@cache
def load_vectors(path: Path = VECTORS_FILE) -> dict[str, np.ndarray]:
    """The shipped vectors by key (empty when the file is missing)."""
    if not path.exists():
        return {}
    with np.load(path) as data:
        return dict(zip(data["keys"].tolist(), data["vectors"], strict=True))


class ShippedEmbedding:
    """``inner`` with answers from shipped vectors; only the texts they lack are embedded."""

    def __init__(self, inner: TextEmbedding, vectors: dict[str, np.ndarray]) -> None:
        self._inner = inner
        self._vectors = vectors
        self.model_name = inner.model_name
        self.dimension = inner.dimension

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text: shipped where known, the rest embedded by ``inner`` in one call."""
        keys = [text_key(self.model_name, text) for text in texts]
        missing = [i for i, key in enumerate(keys) if key not in self._vectors]
        found = {i: self._vectors[key] for i, key in enumerate(keys) if key in self._vectors}
        if missing:
            computed = self._inner.embed([texts[i] for i in missing])
            found.update(zip(missing, computed, strict=True))
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.vstack([found[i] for i in range(len(texts))]).astype(np.float32)

    def describe(self) -> EmbeddingStatus:
        """As the inner embedding."""
        return self._inner.describe()


class RecordingEmbedding:
    """``inner``, keeping every text's vector (to write the file)."""

    def __init__(self, inner: TextEmbedding) -> None:
        self._inner = inner
        self.model_name = inner.model_name
        self.dimension = inner.dimension
        self.seen: dict[str, np.ndarray] = {}

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed with ``inner`` and keep the vectors."""
        vectors = self._inner.embed(texts)
        for text, vector in zip(texts, vectors, strict=True):
            self.seen[text_key(self.model_name, text)] = np.asarray(vector, dtype=np.float32)
        return vectors

    def describe(self) -> EmbeddingStatus:
        """As the inner embedding."""
        return self._inner.describe()


@contextmanager
def shipped_vectors(kb: KnowledgeBase) -> Iterator[None]:
    """Inside the block, ``kb`` takes the seed documents' vectors from the shipped file.

    Only for seeding, while nothing else uses ``kb`` (the first start holds its lock)."""
    inner = kb.embedding
    kb.embedding = ShippedEmbedding(inner, load_vectors())
    try:
        yield
    finally:
        kb.embedding = inner


def write_vectors(path: Path = VECTORS_FILE) -> int:
    """Ingest the seed documents into a scratch knowledge base and save their vectors."""
    from core.db import create_db_engine
    from core.kb import create_knowledge_base
    from core.settings import AppSettings, Settings
    from seed.documents import iter_seed_documents
    from seed.setup import prepare_database

    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings(app=AppSettings(data_dir=Path(scratch), seed_on_start=False))
        engine = create_db_engine(settings.database_url)
        prepare_database(engine)
        kb = create_knowledge_base(settings, engine)
        recorder = RecordingEmbedding(kb.embedding)
        kb.embedding = recorder
        try:
            # Not ``seed_knowledge_base``: it answers from the file being rewritten, so only
            # the changed chunks would reach the recorder.
            for document in iter_seed_documents():
                kb.ingest(document.filename, document.data, source="seed", title=document.title)
        finally:
            kb.close()
            engine.dispose()
    keys = sorted(recorder.seen)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        path, keys=np.array(keys), vectors=np.stack([recorder.seen[k] for k in keys])
    )
    return len(keys)


if __name__ == "__main__":
    count = write_vectors()
    print(f"Wrote {count} vectors to {VECTORS_FILE}.")
    sys.exit(0)
