"""The knowledge base: Markdown, text and PDF files chunked, embedded and searched in Qdrant.

::

    kb = create_knowledge_base(settings, engine)
    kb.ingest("returns.md", data)                    # IngestResult(document_id, chunks, …)
    hits = kb.search("how long do refunds take?")    # [SearchHit(title, page, text, score…)]
    prompt_part = kb.format_sources(hits)            # "<sources>\\n[1] Returns — p.2\\n…"
    kb.close()

Errors: ``DocumentRejected`` (a file we will not index; the message says why) and
``KnowledgeBaseError`` (the vector store or embedding model failed), both from ``core.errors``.
"""

from __future__ import annotations

import re

from opentelemetry import trace
from sqlalchemy import Engine

from core.kb.embedder import get_local_embedder
from core.kb.embeddings import (
    TRACER_NAME,
    EmbeddingClient,
    EmbeddingStatus,
    create_text_embedding,
)
from core.kb.extract import SUFFIXES, is_markdown
from core.kb.fusion import DEFAULT_FUSION, Fusion, SearchMode
from core.kb.knowledge_base import (
    IngestResult,
    KnowledgeBase,
    Progress,
    ReindexFailure,
    ReindexReport,
)
from core.kb.retrieval import SearchHit, format_sources
from core.kb.sparse import keyword_spans
from core.kb.vector_store import VectorStore, open_qdrant
from core.settings import Settings

ACCEPTED_SUFFIXES = tuple(sorted(SUFFIXES))
"""The file extensions ingest accepts, with their dots: Streamlit's uploader reads a bare ``text``
as every ``text/*`` type."""

__all__ = [
    "ACCEPTED_SUFFIXES",
    "DEFAULT_FUSION",
    "EmbeddingStatus",
    "Fusion",
    "IngestResult",
    "KnowledgeBase",
    "Progress",
    "ReindexFailure",
    "ReindexReport",
    "SearchHit",
    "SearchMode",
    "collection_name",
    "create_knowledge_base",
    "format_sources",
    "is_markdown",
    "keyword_spans",
]


def collection_name(base: str, model_name: str) -> str:
    """``support_kb`` + ``all-MiniLM-L6-v2`` → ``support_kb_all_minilm_l6_v2``."""
    return f"{base}_{re.sub(r'[^a-z0-9]+', '_', model_name.lower()).strip('_')}"


def create_knowledge_base(
    settings: Settings,
    engine: Engine,
    *,
    embedding_client: EmbeddingClient | None = None,
    fusion: Fusion = DEFAULT_FUSION,
    tracer_provider: trace.TracerProvider | None = None,
) -> KnowledgeBase:
    """The knowledge base for these settings, owning one Qdrant client (call ``close()``).

    ``embedding_client`` (the OpenAI provider, real or simulated) is needed only when
    ``vectors.embedding_model`` is an OpenAI model. Spans go to ``tracer_provider`` (default: the
    global one). A collection seen for the first time (a new embedding model, or a deleted Qdrant
    folder) is filled from the documents already in the database.
    """
    tracer = (tracer_provider or trace.get_tracer_provider()).get_tracer(TRACER_NAME)
    local = get_local_embedder()
    model = settings.vectors.embedding_model
    embedding = create_text_embedding(model, local, embedding_client, tracer)
    collection = collection_name(settings.vectors.collection, embedding.model_name)
    server = settings.vectors.qdrant_url is not None
    store = VectorStore(open_qdrant(settings), collection, embedding.dimension, server=server)
    try:
        created = store.ensure_collection()
        kb = KnowledgeBase(
            engine=engine,
            store=store,
            embedding=embedding,
            tokenizer=local,
            settings=settings.vectors,
            tracer=tracer,
            capture_content=settings.tracing.capture_content,
            fusion=fusion,
        )
        if created and kb.list_documents():
            kb.reindex()
    except BaseException:
        store.close()
        raise
    return kb
