"""The knowledge base: ingest files, keep them in step with Qdrant, search them.

A document is a ``KbDocument`` row (plus its bytes) and its chunks in the collection of the
embedding model in use. Ingest order: read and chunk and embed (where bad files are refused),
then the row, then the vectors, then the row marked indexed — so a refused or failed file leaves
what was already indexed untouched. Same bytes in the same scope are not embedded again; a new
version of a file (same scope, source and filename) replaces the old one once it is indexed.
A re-index that fails before it writes (file now refused, embedding model down) keeps an indexed
document's previous chunks and status and records why; a document without a complete index is
marked failed and has none, so search never returns what the list calls failed.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import numpy as np
from opentelemetry import trace
from sqlalchemy import Engine

from core.db.models import DocumentStatus, KbDocument
from core.errors import DocumentRejected, KnowledgeBaseError
from core.kb import documents
from core.kb.chunking import Chunk, chunk_pages
from core.kb.embedder import LocalEmbedder
from core.kb.embeddings import EmbeddingStatus, TextEmbedding
from core.kb.extract import extract
from core.kb.extracted import Extracted, storable_extract
from core.kb.fusion import DEFAULT_FUSION, Fusion, SearchMode, rank
from core.kb.retrieval import (
    SearchHit,
    format_sources,
    record_results,
    retrieval_attributes,
    to_hit,
)
from core.kb.sparse import SparseVector, document_vector, query_vector
from core.kb.table_rows import table_row_texts
from core.kb.vector_store import ROW_KEY, VectorStore
from core.plain_text import one_line, storable
from core.settings import VectorSettings

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
"""Called with the share done (0–1) and what is happening."""


@dataclass(frozen=True)
class IngestResult:
    document_id: int
    chunks: int
    pages: int
    unchanged: bool
    notes: tuple[str, ...] = ()
    """Things the user should know, e.g. that a file was read as Windows-1252."""


@dataclass(frozen=True)
class ReindexFailure:
    document_id: int
    filename: str
    message: str
    """One sentence, also stored as the document's ``error``."""
    kept_previous: bool
    """True when the document's previous chunks are still indexed and searchable."""


@dataclass(frozen=True)
class ReindexReport:
    indexed: int
    failed: tuple[ReindexFailure, ...] = ()


@dataclass(frozen=True)
class _Vectors:
    payloads: list[dict[str, object]]
    """The chunks', then their table rows' (``ROW_KEY``)."""
    dense: np.ndarray
    sparse: list[SparseVector]
    """The chunks' only."""


class KnowledgeBase:
    """Documents in the app database, their chunks in Qdrant; safe to share between threads."""

    def __init__(
        self,
        *,
        engine: Engine,
        store: VectorStore,
        embedding: TextEmbedding,
        tokenizer: LocalEmbedder,
        settings: VectorSettings,
        tracer: trace.Tracer,
        capture_content: bool = False,
        fusion: Fusion = DEFAULT_FUSION,
    ) -> None:
        self.engine = engine
        self.store = store
        self.embedding = embedding
        self.settings = settings
        self.fusion = fusion
        self._tokenizer = tokenizer
        self._capture = capture_content
        self._tracer = tracer
        self._background: ThreadPoolExecutor | None = None
        self._write_lock = threading.Lock()
        """Held while a document's rows and vectors are written or removed, never while a file
        is read or embedded."""

    @property
    def collection(self) -> str:
        """The Qdrant collection in use (named after the embedding model)."""
        return self.store.collection

    def ingest(
        self,
        filename: str,
        data: bytes,
        *,
        source: str = "upload",
        scope: str = "global",
        title: str | None = None,
        progress: Progress | None = None,
    ) -> IngestResult:
        """Index one file; raises ``DocumentRejected`` with a sentence for files we refuse."""
        say = progress or _quiet
        filename = one_line(filename)
        title = one_line(title) or None if title is not None else None
        content_hash = hashlib.sha256(data).hexdigest()
        unchanged = self._unchanged(scope, content_hash)
        if unchanged is not None:
            say(1.0, f"{filename} is unchanged; nothing to do.")
            return unchanged
        say(0.05, f"Reading {filename}…")
        extracted = self._read(filename, data)
        chunks = self._chunk(filename, extracted)
        say(0.2, f"Embedding {len(chunks)} chunks of {filename}…")
        new = documents.NewDocument(
            title=title or extracted.title,
            filename=filename,
            mime_type=extracted.kind.value,
            content_hash=content_hash,
            data=data,
            source=source,
            scope=scope,
        )
        # Reading, chunking and embedding (nearly all the work) run outside the lock, so one
        # large file does not hold up everyone else's uploads; only the writes are serialised.
        try:
            vectors = self._embed(new, chunks)
        except KnowledgeBaseError as exc:
            known = documents.find_by_hash(self.engine, scope, content_hash)
            if known is not None:
                documents.mark_failed(self.engine, _id(known), str(exc))
            raise
        with self._write_lock:
            unchanged = self._unchanged(scope, content_hash)
            if unchanged is not None:
                say(1.0, f"{filename} was indexed meanwhile; nothing to do.")
                return unchanged
            known = documents.find_by_hash(self.engine, scope, content_hash)
            row = known or documents.add_document(self.engine, new)
            self._write(row, vectors, len(extracted.pages))
            say(0.9, f"Saved {filename}.")
            for old in documents.find_same_name(self.engine, new, _id(row)):
                self._remove(_id(old))
        say(1.0, f"Indexed {filename}: {len(chunks)} chunks.")
        return IngestResult(_id(row), len(chunks), len(extracted.pages), False, extracted.notes)

    def ingest_soon(
        self, filename: str, data: bytes, *, source: str = "upload", scope: str = "global"
    ) -> Future[IngestResult]:
        """``ingest`` on the knowledge base's own thread, so the caller (a customer's turn)
        does not wait for a large file; a refusal or failure is logged and kept in the
        returned future."""
        if self._background is None:
            self._background = ThreadPoolExecutor(1, thread_name_prefix="kb-ingest")
        future = self._background.submit(self.ingest, filename, data, source=source, scope=scope)
        future.add_done_callback(partial(_log_failure, filename))
        return future

    def ingest_attachment(
        self, filename: str, data: bytes, *, source: str = "conversation", scope: str = "global"
    ) -> IngestResult | Future[IngestResult]:
        """A file attached to a chat message: read before the answer when it is small, beside it
        (``ingest_soon``, whose future is returned) when over ``background_attachment_kb``, so
        a large file never holds up the answer; a refusal of a small one is raised."""
        if len(data) > self.settings.background_attachment_kb * 1024:
            return self.ingest_soon(filename, data, source=source, scope=scope)
        return self.ingest(filename, data, source=source, scope=scope)

    def list_documents(self, scope: str | None = None) -> list[KbDocument]:
        """Every document (of one scope), newest first."""
        return documents.list_documents(self.engine, scope)

    def delete_document(self, document_id: int) -> None:
        """Remove a document, its bytes and all its chunks."""
        documents.get_document(self.engine, document_id)
        with self._write_lock:
            self._remove(document_id)

    def reindex(self, document_id: int | None = None) -> ReindexReport:
        """Embed one document (or all) again from the stored bytes.

        A document that cannot be read or embedded now is reported, not raised: an indexed one
        keeps its previous chunks (see the module docstring). A vector store failure raises.
        """
        rows = (
            [documents.get_document(self.engine, document_id)]
            if document_id is not None
            else documents.list_documents(self.engine)
        )
        failed = tuple(f for f in map(self._reindex_one, rows) if f is not None)
        return ReindexReport(len(rows) - len(failed), failed)

    @property
    def embedding_status(self) -> EmbeddingStatus:
        """Which embeddings this knowledge base makes: local, OpenAI's, or simulated."""
        return self.embedding.describe()

    def search(
        self,
        query: str,
        *,
        top_k: int | None = None,
        scope: str | None = None,
        scopes: Sequence[str] | None = None,
        mode: SearchMode | str = SearchMode.HYBRID,
    ) -> list[SearchHit]:
        """The best chunks for ``query``, best first, above the relevance threshold.

        ``scope`` limits the search to one scope, ``scopes`` to several (e.g. ``("global",
        conversation_id)``); neither searches everything. ``mode`` is ``hybrid``, ``dense`` or
        ``keyword``. The threshold (``vectors.relevance_threshold``) applies to the dense cosine
        score, except in keyword mode.
        """
        mode = SearchMode(mode)
        query = storable(query)  # a lone surrogate would stop the tokenizer
        limit = top_k or self.settings.top_k
        wanted = [scope] if scope is not None else (list(scopes) if scopes is not None else None)
        attributes = retrieval_attributes(self.collection, mode, self.fusion.value, limit)
        with self._tracer.start_as_current_span(
            f"retrieval {self.collection}", kind=trace.SpanKind.CLIENT, attributes=attributes
        ) as span:
            hits = self._search(query, limit, wanted, mode) if query.strip() else []
            record_results(span, query, hits, capture_content=self._capture)
            return hits

    def format_sources(self, hits: Sequence[SearchHit]) -> str:
        """The ``<sources>`` block for a system prompt (see ``core.kb.retrieval``)."""
        return format_sources(hits)

    def close(self) -> None:
        """Finish background ingests, then release the vector store (local mode: unlock its
        folder)."""
        if self._background is not None:
            self._background.shutdown(wait=True)
        self.store.close()

    def _search(
        self, query: str, limit: int, scopes: list[str] | None, mode: SearchMode
    ) -> list[SearchHit]:
        if scopes is not None and documents.stored_scopes(self.engine) <= set(scopes):
            scopes = None  # a filter that excludes nothing only costs time (local mode scans)
        dense = self.embedding.embed([query])[0]
        candidates = self.store.candidates(
            dense, query_vector(query), limit=max(4 * limit, 20), scopes=scopes
        )
        threshold = self.settings.relevance_threshold if mode is not SearchMode.KEYWORD else None
        ranked = rank(candidates, mode, self.fusion)
        hits = [
            to_hit(candidate, score)
            for candidate, score in ranked
            if threshold is None or candidate.dense_score >= threshold
        ]
        return hits[:limit]

    def _is_current(self, row: KbDocument) -> bool:
        indexed = row.status is DocumentStatus.INDEXED
        return indexed and self.store.count(_id(row)) == row.chunk_count

    def _unchanged(self, scope: str, content_hash: str) -> IngestResult | None:
        """The result for bytes already indexed in ``scope``, if they are."""
        known = documents.find_by_hash(self.engine, scope, content_hash)
        if known is None or not self._is_current(known):
            return None
        return IngestResult(_id(known), known.chunk_count, known.page_count, True)

    def _read(self, filename: str, data: bytes) -> Extracted:
        extracted = extract(
            filename, data, max_mb=self.settings.max_upload_mb, max_pages=self.settings.max_pages
        )
        return storable_extract(extracted)

    def _chunk(self, filename: str, extracted: Extracted) -> list[Chunk]:
        limit = self.settings.max_chunks
        chunks = chunk_pages(
            extracted.pages,
            self._tokenizer.token_offsets,
            chunk_tokens=self.settings.chunk_tokens,
            overlap=self.settings.chunk_overlap,
            limit=limit + 1,
        )
        if not chunks:
            raise DocumentRejected(f"{filename} has no text to index.")
        if len(chunks) > limit:
            raise DocumentRejected(
                f"{filename} makes more than {limit:,} chunks, the most one document may have "
                "(vectors.max_chunks); split it into smaller files or raise the limit."
            )
        return chunks

    def _reindex_one(self, row: KbDocument) -> ReindexFailure | None:
        document_id = _id(row)
        had_index = self._is_current(row)
        try:
            extracted = self._read(row.filename, documents.read_content(self.engine, document_id))
            vectors = self._embed(row, self._chunk(row.filename, extracted))
        except KnowledgeBaseError as exc:
            if had_index:
                message = f"Re-indexing failed, so the previous index is kept: {exc}"
                documents.note_error(self.engine, document_id, message)
            else:
                message = str(exc)
                with self._write_lock:
                    self.store.delete_document(document_id)
                documents.mark_failed(self.engine, document_id, message)
            return ReindexFailure(document_id, row.filename, message, had_index)
        with self._write_lock:
            self._write(row, vectors, len(extracted.pages))
        return None

    def _embed(self, row: KbDocument | documents.NewDocument, chunks: list[Chunk]) -> _Vectors:
        """Each chunk's vectors, then one more per table row it holds (``table_rows``), stored
        with the chunk's payload and no keyword vector, so a row can find its chunk."""
        texts = [f"{row.title}\n{chunk.text}" for chunk in chunks]
        rows = [
            (index, text)
            for index, chunk in enumerate(chunks)
            for text in table_row_texts(row.title, chunk.heading, chunk.text)
        ]
        dense = self.embedding.embed(texts + [text for _, text in rows])
        payloads = [_payload(row, chunk) for chunk in chunks]
        payloads += [{**payloads[index], "chunk": index, ROW_KEY: True} for index, _ in rows]
        return _Vectors(payloads, dense, [document_vector(t) for t in texts])

    def _write(self, row: KbDocument, vectors: _Vectors, pages: int) -> None:
        document_id = _id(row)
        try:
            self.store.delete_document(document_id)
            self.store.upsert(document_id, vectors.payloads, vectors.dense, vectors.sparse)
        except KnowledgeBaseError as exc:
            documents.mark_failed(self.engine, document_id, str(exc))
            raise
        chunks = len(vectors.sparse)
        documents.mark_indexed(self.engine, document_id, pages=pages, chunks=chunks)

    def _remove(self, document_id: int) -> None:
        self.store.delete_document(document_id)
        documents.remove_document(self.engine, document_id)


def _payload(row: KbDocument | documents.NewDocument, chunk: Chunk) -> dict[str, object]:
    return {
        "title": row.title,
        "filename": row.filename,
        "scope": row.scope,
        "page": chunk.page,
        "heading": chunk.heading,
        "start": chunk.start,
        "end": chunk.end,
        "text": chunk.text,
    }


def _id(row: KbDocument) -> int:
    if row.id is None:
        raise KnowledgeBaseError("A knowledge-base document has no id; it was never saved.")
    return row.id


def _quiet(_share: float, _message: str) -> None:
    return None


def _log_failure(filename: str, future: Future[IngestResult]) -> None:
    error = future.exception()
    if error is not None:
        log.warning("background ingest of %s failed: %s", filename, error)
