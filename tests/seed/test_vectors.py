"""The shipped seed vectors: every seed chunk is in the file, and each is the model's own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from core.db import create_db_engine
from core.kb import KnowledgeBase, create_knowledge_base
from core.settings import AppSettings, Settings
from seed.documents import iter_seed_documents
from seed.knowledge_base import seed_knowledge_base
from seed.setup import prepare_database
from seed.vectors import RecordingEmbedding, load_vectors


@pytest.fixture
def kb(tmp_path: Path) -> Iterator[KnowledgeBase]:
    settings = Settings(app=AppSettings(data_dir=tmp_path / "data", seed_on_start=False))
    engine = create_db_engine(settings.database_url)
    prepare_database(engine)
    knowledge_base = create_knowledge_base(settings, engine)
    yield knowledge_base
    knowledge_base.close()
    engine.dispose()


def test_seeding_embeds_nothing_the_file_holds(kb: KnowledgeBase) -> None:
    recorder = RecordingEmbedding(kb.embedding)
    kb.embedding = recorder

    added = seed_knowledge_base(kb)

    assert added == len(list(iter_seed_documents()))
    assert recorder.seen == {}, "a seed document changed: run `python -m seed.vectors`"
    assert len(kb.search("How long do I have to return a jacket?", top_k=3)) == 3


def test_the_shipped_vectors_are_the_models_own(kb: KnowledgeBase) -> None:
    recorder = RecordingEmbedding(kb.embedding)
    kb.embedding = recorder
    document = next(iter_seed_documents())

    kb.ingest(document.filename, document.data, source="seed", title=document.title)

    shipped = load_vectors()
    assert recorder.seen
    for key, vector in recorder.seen.items():
        cosine = float(np.dot(vector, shipped[key]))
        cosine /= float(np.linalg.norm(vector) * np.linalg.norm(shipped[key]))
        assert cosine > 0.9999
