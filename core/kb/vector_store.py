"""The chunks in Qdrant: one collection per embedding model, dense and keyword vectors per point.

Local mode (a folder, no server) unless ``QDRANT_URL`` is set; the code is the same. Local mode
admits one client per folder per process, so the knowledge base owns one ``VectorStore`` and
every call goes through its lock. In local mode keyword search runs on an in-memory mirror of
the sparse vectors (``core.kb.keyword_index``), because local Qdrant scores them in pure Python.
Qdrant errors become ``KnowledgeBaseError`` here; a URL or folder the client cannot use becomes
``SettingsError``.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import ApiException, ResponseHandlingException

from core.errors import KnowledgeBaseError, SettingsError
from core.kb.keyword_index import KeywordIndex
from core.kb.sparse import SparseVector
from core.settings import Settings, redact_url

DENSE = "dense"
KEYWORD = "keyword"
ROW_KEY = "row"
"""Payload flag of a table row's point: the chunk's payload (``chunk`` its index), a dense vector
only, found as its chunk and not counted as a chunk."""
_POINT_NAMESPACE = uuid.UUID("6f1c9a52-93a5-4a7e-9d0b-3c55b8a4e210")


@dataclass(frozen=True)
class Candidate:
    """A chunk found by either side, with both scores where known."""

    payload: dict[str, Any]
    dense_score: float
    keyword_score: float | None
    dense_rank: int | None
    keyword_rank: int | None


def open_qdrant(settings: Settings) -> QdrantClient:
    """A client for ``QDRANT_URL``, or for the local folder ``<data_dir>/qdrant``."""
    vectors = settings.vectors
    if vectors.qdrant_url:
        key = vectors.qdrant_api_key.get_secret_value() if vectors.qdrant_api_key else None
        try:
            return QdrantClient(
                url=vectors.qdrant_url, api_key=key, timeout=10, check_compatibility=False
            )
        except ValueError as exc:  # urllib3's LocationParseError among them
            raise SettingsError(
                f"QDRANT_URL is not valid: {redact_url(vectors.qdrant_url)!r} cannot be read "
                f"({exc})."
            ) from exc
    try:
        settings.qdrant_path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingsError(
            f"The vector store folder {settings.qdrant_path} cannot be created "
            f"({exc.strerror or exc}); set DATA_DIR to a folder this user can write, or "
            "QDRANT_URL to a Qdrant server."
        ) from exc
    try:
        return QdrantClient(path=str(settings.qdrant_path))
    except RuntimeError as exc:
        raise KnowledgeBaseError(
            f"The vector store folder {settings.qdrant_path} is open in another process; "
            "stop it or set QDRANT_URL to a Qdrant server."
        ) from exc


def describe_unreachable_qdrant(url: str, reason: str) -> str:
    """The sentence for a Qdrant server that does not answer, naming the setting."""
    return (
        f"QDRANT_URL points to {redact_url(url)}, which did not answer ({reason}); start Qdrant "
        "there, or unset QDRANT_URL to use local mode."
    )


def point_id(document_id: int, index: int) -> str:
    """A stable point id for chunk ``index`` of a document."""
    return str(uuid.uuid5(_POINT_NAMESPACE, f"{document_id}:{index}"))


class VectorStore:
    """One Qdrant collection of chunks; thread-safe."""

    def __init__(
        self, client: QdrantClient, collection: str, dimension: int, *, server: bool = False
    ) -> None:
        self.client = client
        self.server = server
        """Payload indexes are made only on a server (local mode ignores them)."""
        self.collection = collection
        self.dimension = dimension
        self._lock = threading.RLock()
        self._keywords = None if server else KeywordIndex()

    def ensure_collection(self) -> bool:
        """Create the collection if missing; ``True`` when it was created now."""
        with self._guard():
            if self.client.collection_exists(self.collection):
                self._load_keywords()
                return False
            self.client.create_collection(
                self.collection,
                vectors_config={
                    DENSE: models.VectorParams(size=self.dimension, distance=models.Distance.COSINE)
                },
                sparse_vectors_config={
                    KEYWORD: models.SparseVectorParams(modifier=models.Modifier.IDF)
                },
            )
            if self.server:
                kinds = models.PayloadSchemaType
                self.client.create_payload_index(self.collection, "document_id", kinds.INTEGER)
                self.client.create_payload_index(self.collection, "scope", kinds.KEYWORD)
            return True

    def upsert(
        self,
        document_id: int,
        payloads: Sequence[dict[str, Any]],
        dense: np.ndarray,
        keyword: Sequence[SparseVector],
    ) -> None:
        """Store a document's chunks (ids are stable, so re-indexing overwrites): a keyword
        vector per chunk, the first ``len(keyword)`` payloads; the rest are table rows
        (``ROW_KEY``), stored with their dense vector only."""
        points = [
            models.PointStruct(
                id=point_id(document_id, index),
                vector=_vectors(dense[index], keyword[index] if index < len(keyword) else None),
                payload={
                    **payload,
                    "document_id": document_id,
                    "chunk": payload.get("chunk", index),
                },
            )
            for index, payload in enumerate(payloads)
        ]
        with self._guard():
            for start in range(0, len(points), 256):
                self.client.upsert(self.collection, points[start : start + 256], wait=True)
            if self._keywords is not None:
                for point, payload, sparse in zip(points, payloads, keyword, strict=False):
                    self._keywords.add(str(point.id), str(payload.get("scope")), sparse)

    def delete_document(self, document_id: int) -> None:
        """Remove every chunk of a document."""
        selector = models.FilterSelector(filter=_match("document_id", document_id))
        with self._guard():
            if self._keywords is not None:
                self._keywords.remove([str(p.id) for p in self._scroll(selector.filter, [])])
            self.client.delete(self.collection, points_selector=selector, wait=True)

    def count(self, document_id: int | None = None) -> int:
        """Chunks stored, for one document or all (table rows' points not counted)."""
        where = models.Filter() if document_id is None else _match("document_id", document_id)
        where.must_not = [models.FieldCondition(key=ROW_KEY, match=models.MatchValue(value=True))]
        with self._guard():
            return self.client.count(self.collection, count_filter=where, exact=True).count

    def candidates(
        self,
        dense: np.ndarray,
        keyword: SparseVector,
        *,
        limit: int,
        scopes: Sequence[str] | None,
    ) -> list[Candidate]:
        """The best ``limit`` chunks of each side; every candidate gets its dense score."""
        where = (
            None
            if scopes is None
            else models.Filter(
                must=[models.FieldCondition(key="scope", match=models.MatchAny(any=list(scopes)))]
            )
        )
        requests = [
            models.QueryRequest(
                query=dense.tolist(), using=DENSE, limit=limit, filter=where, with_payload=True
            ),
        ]
        if keyword.indices and self._keywords is None:
            sparse = models.SparseVector(indices=keyword.indices, values=keyword.values)
            requests.append(
                models.QueryRequest(
                    query=sparse,
                    using=KEYWORD,
                    limit=limit,
                    filter=where,
                    with_payload=True,
                    with_vector=[DENSE],
                )
            )
        with self._guard():
            answers = self.client.query_batch_points(self.collection, requests=requests)
            if self._keywords is None:
                keyword_hits = answers[1].points if len(answers) > 1 else []
            else:
                keyword_hits = self._local_keyword_hits(keyword, limit, scopes)
        return _merge(answers[0].points, keyword_hits, dense)

    def _local_keyword_hits(
        self, keyword: SparseVector, limit: int, scopes: Sequence[str] | None
    ) -> list[models.ScoredPoint]:
        assert self._keywords is not None
        found = self._keywords.search(keyword, limit=limit, scopes=scopes)
        if not found:
            return []
        records = self.client.retrieve(
            self.collection, [point for point, _ in found], with_payload=True, with_vectors=[DENSE]
        )
        by_id = {str(record.id): record for record in records}
        return [
            models.ScoredPoint(
                id=point,
                version=0,
                score=score,
                payload=by_id[point].payload,
                vector=by_id[point].vector,
            )
            for point, score in found
            if point in by_id
        ]

    def _load_keywords(self) -> None:
        if self._keywords is None:
            return
        for record in self._scroll(None, [KEYWORD]):
            vectors = record.vector if isinstance(record.vector, dict) else {}
            stored = vectors.get(KEYWORD)
            if isinstance(stored, models.SparseVector):
                vector = SparseVector(list(stored.indices), list(stored.values))
                self._keywords.add(str(record.id), str((record.payload or {}).get("scope")), vector)

    def _scroll(self, where: models.Filter | None, vectors: list[str]) -> list[models.Record]:
        records: list[models.Record] = []
        offset: models.ExtendedPointId | None = None
        while True:
            page, offset = self.client.scroll(
                self.collection,
                scroll_filter=where,
                limit=1024,
                offset=offset,
                with_payload=["scope"],
                with_vectors=vectors or False,
            )
            records += page
            if offset is None:
                return records

    def close(self) -> None:
        """Release the client (and the local folder's lock)."""
        with self._lock:
            self.client.close()

    @contextmanager
    def _guard(self) -> Iterator[None]:
        with self._lock:
            try:
                yield
            except ResponseHandlingException as exc:  # no answer: refused, timed out, cut off
                url = str(self.client.init_options.get("url"))
                reason = str(exc) or type(exc).__name__
                raise KnowledgeBaseError(describe_unreachable_qdrant(url, reason)) from exc
            except (ApiException, OSError, ValueError, RuntimeError) as exc:
                raise KnowledgeBaseError(
                    f"The vector store failed ({type(exc).__name__}: {exc}); "
                    "check that Qdrant is running, then try again."
                ) from exc


def _match(key: str, value: int) -> models.Filter:
    condition = models.FieldCondition(key=key, match=models.MatchValue(value=value))
    return models.Filter(must=[condition])


def _vectors(dense: np.ndarray, sparse: SparseVector | None) -> dict[str, Any]:
    vectors: dict[str, Any] = {DENSE: dense.tolist()}
    if sparse is not None:
        vectors[KEYWORD] = models.SparseVector(indices=sparse.indices, values=sparse.values)
    return vectors


def _chunk_key(point: models.ScoredPoint) -> tuple[object, object]:
    payload = point.payload or {}
    return payload.get("document_id"), payload.get("chunk")


def _merge(
    dense_hits: Sequence[models.ScoredPoint],
    keyword_hits: Sequence[models.ScoredPoint],
    query: np.ndarray,
) -> list[Candidate]:
    """One candidate per chunk: its closest point (the chunk or one of its table rows) ranks
    it on the dense side."""
    found: dict[tuple[object, object], Candidate] = {}
    for point in dense_hits:
        if _chunk_key(point) not in found:
            rank = len(found)
            found[_chunk_key(point)] = Candidate(point.payload or {}, point.score, None, rank, None)
    for rank, point in enumerate(keyword_hits):
        known = found.get(_chunk_key(point))
        if known is not None:
            found[_chunk_key(point)] = Candidate(
                known.payload, known.dense_score, point.score, known.dense_rank, rank
            )
            continue
        vectors = point.vector if isinstance(point.vector, dict) else {}
        stored = np.asarray(vectors.get(DENSE, np.zeros_like(query)), dtype=np.float32)
        dense_score = float(stored @ query / max(float(np.linalg.norm(stored)), 1e-12))
        found[_chunk_key(point)] = Candidate(
            point.payload or {}, dense_score, point.score, None, rank
        )
    return list(found.values())
