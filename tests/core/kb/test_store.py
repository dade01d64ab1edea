"""The vector store across restarts and threads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.core.kb.conftest import RETURNS_MD, SHIPPING_MD, KbFactory


def test_documents_survive_a_restart_and_keyword_search_still_finds_them(
    make_kb: KbFactory,
) -> None:
    first = make_kb()
    first.kb.ingest("shipping.md", SHIPPING_MD.encode())
    first.kb.close()

    again = make_kb()

    hits = again.kb.search("FedEx DHL carriers", mode="keyword")
    assert hits[0].filename == "shipping.md"
    assert again.kb.ingest("shipping.md", SHIPPING_MD.encode()).unchanged


def test_searches_and_ingests_from_many_threads_at_once(make_kb: KbFactory) -> None:
    kb = make_kb().kb
    kb.ingest("returns.md", RETURNS_MD.encode())
    texts = [f"# Note {n}\n\nTent note number {n} about pegs and guy lines." for n in range(8)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        ingests = [pool.submit(kb.ingest, f"note{n}.md", t.encode()) for n, t in enumerate(texts)]
        searches = [pool.submit(kb.search, "refund timing") for _ in range(16)]
        results = [f.result() for f in ingests]
        found = [f.result() for f in searches]

    assert len({r.document_id for r in results}) == 8
    assert all(hits and hits[0].filename == "returns.md" for hits in found)
    assert kb.store.count() == sum(d.chunk_count for d in kb.list_documents())


def test_local_keyword_index_scores_like_qdrant_sparse_search(make_kb: KbFactory) -> None:
    from qdrant_client import models

    from core.kb.sparse import query_vector
    from core.kb.vector_store import KEYWORD

    kb = make_kb().kb
    kb.ingest("returns.md", RETURNS_MD.encode())
    kb.ingest("shipping.md", SHIPPING_MD.encode())
    query = query_vector("free shipping or a refund for returned boots")

    ours = kb.store.candidates(kb.embedding.embed(["x"])[0], query, limit=10, scopes=None)
    theirs = kb.store.client.query_points(
        kb.collection,
        query=models.SparseVector(indices=query.indices, values=query.values),
        using=KEYWORD,
        limit=10,
    ).points

    mine = sorted((c.keyword_score or 0.0) for c in ours if c.keyword_rank is not None)
    assert mine == pytest.approx(sorted(p.score for p in theirs), rel=1e-6)
