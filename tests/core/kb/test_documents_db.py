"""Document rows on both database backends: ingest, unchanged re-upload, replace, delete."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.db import create_db_engine, init_schema
from core.db.models import DocumentStatus
from core.kb import KnowledgeBase, create_knowledge_base
from core.settings import AppSettings, Settings
from tests.core.kb.conftest import RETURNS_MD, make_pdf


@pytest.fixture
def db_kb(database_url: str, tmp_path: Path) -> Iterator[KnowledgeBase]:
    engine = create_db_engine(database_url)
    init_schema(engine)
    settings = Settings(app=AppSettings(data_dir=tmp_path / "data", seed_on_start=False))
    kb = create_knowledge_base(settings, engine)
    yield kb
    kb.close()
    engine.dispose()


def test_document_lifecycle(db_kb: KnowledgeBase) -> None:
    pdf = make_pdf(["Warranty guide", "Two-year warranty on tents."])
    first = db_kb.ingest("warranty.pdf", pdf, title="Warranty")
    db_kb.ingest("returns.md", RETURNS_MD.encode(), source="seed")

    again = db_kb.ingest("warranty.pdf", pdf)
    newer = db_kb.ingest("returns.md", RETURNS_MD.replace("30", "45").encode(), source="seed")
    db_kb.delete_document(first.document_id)

    assert again.unchanged and again.document_id == first.document_id
    [row] = db_kb.list_documents()
    assert (row.id, row.filename, row.source) == (newer.document_id, "returns.md", "seed")
    assert row.status is DocumentStatus.INDEXED and row.indexed_at is not None
    assert row.chunk_count == db_kb.store.count() == newer.chunks
    assert row.size_bytes == len(RETURNS_MD.replace("30", "45").encode())
    assert row.mime_type == "text/markdown"
