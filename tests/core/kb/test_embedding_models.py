"""The OpenAI embedding model through an injected client: its own collection, same answers."""

from __future__ import annotations

from pathlib import Path

import httpx2
import openai
import pytest

from core.db import create_db_engine, init_schema
from core.db.models import DocumentStatus
from core.errors import KnowledgeBaseError
from core.kb import create_knowledge_base
from core.kb.embedder import get_local_embedder
from core.providers import create_providers
from core.providers.openai_provider import OpenAIChatProvider
from core.settings import AppSettings, ProviderSettings, Settings, VectorSettings
from core.simulator import FaultPlan, create_simulator_transport
from core.simulator.faults import Fault, FaultKind
from tests.core.kb.conftest import RETURNS_MD, SHIPPING_MD


def _settings(tmp_path: Path, model: str) -> Settings:
    return Settings(
        app=AppSettings(data_dir=tmp_path / "data", seed_on_start=False),
        vectors=VectorSettings(embedding_model=model),
    )


def _client(faults: FaultPlan | None = None, *, simulated: bool = True) -> OpenAIChatProvider:
    transport = create_simulator_transport(speed=0, seed=1, faults=faults)
    client = openai.OpenAI(
        api_key="sk-test",
        base_url="https://simulator.invalid/v1",
        http_client=httpx2.Client(transport=transport),
        max_retries=0,
    )
    return OpenAIChatProvider(client, simulated=simulated)


def test_switching_to_openai_embeds_existing_documents_into_its_own_collection(
    tmp_path: Path,
) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'kb.db'}")
    init_schema(engine)
    local = create_knowledge_base(_settings(tmp_path, "all-MiniLM-L6-v2"), engine)
    local.ingest("returns.md", RETURNS_MD.encode())
    local.ingest("shipping.md", SHIPPING_MD.encode())
    local.close()

    remote = create_knowledge_base(
        _settings(tmp_path, "text-embedding-3-small"), engine, embedding_client=_client()
    )
    try:
        hits = remote.search("How long does a refund take?", top_k=1)
        assert remote.collection == "support_kb_text_embedding_3_small"
        assert remote.store.dimension == 1536
        assert hits[0].filename == "returns.md"
        assert sum(d.chunk_count for d in remote.list_documents()) == remote.store.count()
    finally:
        remote.close()
        engine.dispose()


def test_openai_model_without_a_client_says_what_to_set(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'kb.db'}")

    with pytest.raises(KnowledgeBaseError, match="set OPENAI_API_KEY"):
        create_knowledge_base(_settings(tmp_path, "text-embedding-3-small"), engine)


def test_openai_failure_is_one_sentence_and_keeps_nothing_half_done(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'kb.db'}")
    init_schema(engine)
    faults = FaultPlan()
    kb = create_knowledge_base(
        _settings(tmp_path, "text-embedding-3-small"), engine, embedding_client=_client(faults)
    )
    try:
        faults.add(Fault(FaultKind.SERVER_ERROR, times=5))
        with pytest.raises(KnowledgeBaseError, match="OpenAI could not embed the text"):
            kb.ingest("returns.md", RETURNS_MD.encode())
        faults.clear()
        assert kb.ingest("returns.md", RETURNS_MD.encode()).chunks == kb.store.count()
    finally:
        kb.close()
        engine.dispose()


def test_embedding_outage_during_reindex_keeps_the_previous_index(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'kb.db'}")
    init_schema(engine)
    faults = FaultPlan()
    kb = create_knowledge_base(
        _settings(tmp_path, "text-embedding-3-small"), engine, embedding_client=_client(faults)
    )
    try:
        result = kb.ingest("returns.md", RETURNS_MD.encode())
        faults.add(Fault(FaultKind.SERVER_ERROR, times=5))

        report = kb.reindex()

        faults.clear()
        [document] = kb.list_documents()
        assert (report.indexed, document.status) == (0, DocumentStatus.INDEXED)
        assert (document.error or "").startswith(
            "Re-indexing failed, so the previous index is kept: OpenAI could not embed the text"
        )
        assert kb.store.count(result.document_id) == result.chunks
        assert kb.search("How long does a refund take?", top_k=1)[0].filename == "returns.md"
    finally:
        kb.close()
        engine.dispose()


def test_simulated_openai_embeddings_are_reported_as_simulated(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'kb.db'}")
    init_schema(engine)
    settings = _settings(tmp_path, "text-embedding-3-small").model_copy(
        update={"providers": ProviderSettings(openai_api_key=None)}
    )
    kb = create_knowledge_base(
        settings, engine, embedding_client=create_providers(settings).embedding_client
    )
    try:
        status = kb.embedding_status
        assert (status.model, status.mode) == ("text-embedding-3-small", "simulated")
        assert status.detail.startswith(
            "text-embedding-3-small is simulated: with no OPENAI_API_KEY the offline simulator"
        )
    finally:
        kb.close()
        engine.dispose()


@pytest.mark.parametrize(
    ("model", "mode"), [("all-MiniLM-L6-v2", "local"), ("text-embedding-3-small", "openai")]
)
def test_local_and_real_openai_embeddings_are_not_called_simulated(
    tmp_path: Path, model: str, mode: str
) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'kb.db'}")
    init_schema(engine)
    real = _client(simulated=False)
    kb = create_knowledge_base(_settings(tmp_path, model), engine, embedding_client=real)
    try:
        assert kb.embedding_status.mode == mode
        assert "simulated" not in kb.embedding_status.detail
    finally:
        kb.close()
        engine.dispose()


def test_a_text_embedded_on_its_own_gets_the_same_vector_whatever_comes_with_it() -> None:
    embedder = get_local_embedder()
    text = "Trail Club members: return window 60 days, starts on the delivery date."
    alone = embedder.embed([text])[0]

    each = embedder.embed_each([text, "short", "a much longer text " * 20])[0]

    assert (each == alone).all()
    assert float(embedder.embed([text, "short", "a much longer text " * 20])[0] @ alone) < 0.999
