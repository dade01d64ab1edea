"""Ingest, idempotent re-upload, deletion, re-index, search with citations, spans."""

from __future__ import annotations

import itertools
import json

import pytest

from core.db.models import DocumentStatus
from core.errors import DocumentRejected, KnowledgeBaseError
from core.kb import documents
from seed.documents import PDF_SOURCES_DIR
from seed.pdf import render_markdown_pdf
from tests.core.kb.conftest import RETURNS_MD, SHIPPING_MD, Kb, KbFactory, make_pdf

WARRANTY_PAGES = [
    "Warranty guide\nEvery tent and backpack carries a two-year warranty.",
    "Claims\nTo claim, send a photo of the broken zipper or seam to warranty@northwind.example.\n"
    "We repair or replace the item within ten business days.",
]


def test_search_cites_document_page_heading_and_offsets(kb: Kb) -> None:
    kb.kb.ingest("returns.md", RETURNS_MD.encode())
    pdf = kb.kb.ingest("warranty.pdf", make_pdf(WARRANTY_PAGES))

    [refund] = kb.kb.search("how many days until my refund arrives?", top_k=1)
    [claim] = kb.kb.search("my zipper broke, how do I claim a repair?", top_k=1)

    assert refund.title == "Returns policy" and refund.page is None
    assert refund.heading == "Refund timing"
    assert RETURNS_MD[refund.start : refund.end] == refund.text
    assert "5–7 business days" in refund.text
    assert (claim.document_id, claim.page, claim.title) == (pdf.document_id, 2, "Warranty guide")
    assert "zipper" in claim.text


def test_pdf_citation_carries_its_section_heading(kb: Kb) -> None:
    terms = (PDF_SOURCES_DIR / "warranty-and-repair-terms.md").read_text(encoding="utf-8")
    kb.kb.ingest("terms.pdf", render_markdown_pdf(terms, "Warranty and Repair Terms"))

    [hit] = kb.kb.search("what does it cost to fix my boots after the warranty ran out?", top_k=1)

    assert (hit.filename, hit.page) == ("terms.pdf", 3)
    assert hit.heading == "6. Repair service outside warranty"
    assert kb.kb.format_sources([hit]).startswith(
        "<sources>\n[1] Warranty and Repair Terms — p.3\n"
    )


def test_long_document_is_chunked_with_overlap_and_page_offsets(make_kb: KbFactory) -> None:
    kb = make_kb(chunk_tokens=60, chunk_overlap=10)
    sentences = " ".join(f"Sentence {n} tells about tent pole number {n}." for n in range(60))
    text = f"# Poles\n\n{sentences}\n"

    result = kb.kb.ingest("poles.md", text.encode())
    hits = kb.kb.search("tent pole", top_k=50, mode="keyword")

    assert result.chunks == len(hits) >= 8
    ordered = sorted(hits, key=lambda h: h.start)
    assert all(text[h.start : h.end] == h.text for h in ordered)
    assert all(b.start < a.end for a, b in itertools.pairwise(ordered))
    assert ordered[-1].end == len(text.rstrip())


def test_reupload_of_same_bytes_embeds_nothing(kb: Kb) -> None:
    first = kb.kb.ingest("returns.md", RETURNS_MD.encode())
    kb.spans.clear()

    again = kb.kb.ingest("returns.md", RETURNS_MD.encode())

    assert again.unchanged and again.document_id == first.document_id
    assert again.chunks == first.chunks
    assert kb.finished("embeddings") == []
    assert len(kb.kb.list_documents()) == 1


def test_new_version_of_a_file_replaces_the_old_one(kb: Kb) -> None:
    kb.kb.ingest("returns.md", RETURNS_MD.encode())
    changed = RETURNS_MD.replace("30 days", "45 days")

    result = kb.kb.ingest("returns.md", changed.encode())

    [document] = kb.kb.list_documents()
    assert document.id == result.document_id and not result.unchanged
    texts = " ".join(h.text for h in kb.kb.search("return window days", top_k=10))
    assert "45 days" in texts and "30 days" not in texts


def test_delete_removes_document_and_its_chunks(kb: Kb) -> None:
    returns = kb.kb.ingest("returns.md", RETURNS_MD.encode())
    kb.kb.ingest("shipping.md", SHIPPING_MD.encode())

    kb.kb.delete_document(returns.document_id)

    assert [d.filename for d in kb.kb.list_documents()] == ["shipping.md"]
    hits = kb.kb.search("refund after the warehouse receives it", top_k=10, mode="keyword")
    assert all(h.filename == "shipping.md" for h in hits)
    assert kb.kb.store.count(returns.document_id) == 0
    with pytest.raises(KnowledgeBaseError, match="does not exist"):
        kb.kb.delete_document(returns.document_id)


def test_rejected_file_leaves_indexed_documents_intact(kb: Kb) -> None:
    kb.kb.ingest("returns.md", RETURNS_MD.encode())

    with pytest.raises(DocumentRejected):
        kb.kb.ingest("broken.pdf", b"%PDF-1.7\nthis is not really a pdf")

    assert [d.filename for d in kb.kb.list_documents()] == ["returns.md"]
    assert kb.kb.search("refund", top_k=1)[0].filename == "returns.md"


def test_reindex_rebuilds_chunks_from_stored_bytes(kb: Kb) -> None:
    result = kb.kb.ingest("returns.md", RETURNS_MD.encode())
    kb.kb.store.delete_document(result.document_id)

    assert kb.kb.reindex(result.document_id).indexed == 1

    assert kb.kb.store.count(result.document_id) == result.chunks
    [document] = kb.kb.list_documents()
    assert document.status is DocumentStatus.INDEXED


def test_failed_reindex_keeps_the_previous_index_and_says_so(kb: Kb) -> None:
    result = kb.kb.ingest("returns.md", RETURNS_MD.encode())
    kb.kb.settings = kb.kb.settings.model_copy(update={"max_upload_mb": 0.0001})

    report = kb.kb.reindex(result.document_id)

    [document] = kb.kb.list_documents()
    assert (document.status, document.chunk_count) == (DocumentStatus.INDEXED, result.chunks)
    kept = "Re-indexing failed, so the previous index is kept: returns.md is 0.000"
    assert (document.error or "").startswith(kept)
    assert kb.kb.search("refund timing", top_k=1)[0].document_id == result.document_id
    assert report.indexed == 0
    assert [(f.filename, f.kept_previous) for f in report.failed] == [("returns.md", True)]
    assert report.failed[0].message == document.error


def test_failed_reindex_of_a_failed_document_leaves_nothing_searchable(kb: Kb) -> None:
    result = kb.kb.ingest("returns.md", RETURNS_MD.encode())
    documents.mark_failed(kb.kb.engine, result.document_id, "The embedding model was down.")
    kb.kb.settings = kb.kb.settings.model_copy(update={"max_upload_mb": 0.0001})

    report = kb.kb.reindex()

    [document] = kb.kb.list_documents()
    assert (document.status, document.chunk_count) == (DocumentStatus.FAILED, 0)
    assert (document.error or "").startswith("returns.md is 0.000")
    assert kb.kb.store.count(result.document_id) == 0
    assert kb.kb.search("refund timing", mode="keyword") == []
    assert [f.kept_previous for f in report.failed] == [False]


def test_scopes_keep_conversation_uploads_apart(kb: Kb) -> None:
    kb.kb.ingest("returns.md", RETURNS_MD.encode())
    kb.kb.ingest("shipping.md", SHIPPING_MD.encode(), scope="conv-1", source="conversation")

    global_only = kb.kb.search("free shipping carriers", scope="global", mode="keyword")
    both = kb.kb.search("free shipping carriers", scopes=("global", "conv-1"), mode="keyword")

    assert all(h.filename == "returns.md" for h in global_only)
    assert both[0].filename == "shipping.md"
    assert [d.filename for d in kb.kb.list_documents(scope="conv-1")] == ["shipping.md"]


def test_unrelated_query_is_cut_by_the_relevance_threshold(make_kb: KbFactory) -> None:
    kb = make_kb(relevance_threshold=0.3)
    kb.kb.ingest("returns.md", RETURNS_MD.encode())

    assert kb.kb.search("quantum chromodynamics lattice gauge theory") == []


def test_hits_carry_dense_keyword_and_fused_scores(kb: Kb) -> None:
    kb.kb.ingest("returns.md", RETURNS_MD.encode())
    kb.kb.ingest("shipping.md", SHIPPING_MD.encode())

    hits = kb.kb.search("Which carriers ship my order, UPS or FedEx?")

    assert hits[0].filename == "shipping.md"
    assert hits[0].keyword_score is not None and hits[0].keyword_score > 0
    assert 0 < hits[0].dense_score <= 1
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_format_sources_numbers_passages_with_pages(kb: Kb) -> None:
    kb.kb.ingest("returns.md", RETURNS_MD.encode())
    kb.kb.ingest("warranty.pdf", make_pdf(WARRANTY_PAGES))
    hits = kb.kb.search("warranty claim for a broken zipper", top_k=2)

    block = kb.kb.format_sources(hits)

    assert block.startswith("<sources>\n[1] Warranty guide — p.2\n")
    assert "\n\n[2] " in block and block.endswith("\n</sources>")
    assert kb.kb.format_sources([]) == ""


def test_embedding_and_retrieval_spans(make_kb: KbFactory) -> None:
    kb = make_kb(capture_content=True)
    kb.kb.ingest("returns.md", RETURNS_MD.encode())

    kb.kb.search("refund for alice@example.com", top_k=2)

    embed = kb.finished("embeddings all-MiniLM-L6-v2")[0].attributes or {}
    assert embed["gen_ai.operation.name"] == "embeddings"
    assert embed["gen_ai.provider.name"] == "local"
    assert embed["observatory.cost.status"] == "not_applicable"
    assert int(str(embed["gen_ai.usage.input_tokens"])) > 50
    [retrieval] = kb.finished("retrieval support_kb_all_minilm_l6_v2")
    attributes = retrieval.attributes or {}
    assert attributes["gen_ai.operation.name"] == "retrieval"
    assert "alice@example.com" not in str(attributes["gen_ai.retrieval.query.text"])
    documents = json.loads(str(attributes["gen_ai.retrieval.documents"]))
    assert documents[0]["title"] == "Returns policy"


def test_content_is_not_captured_by_default(kb: Kb) -> None:
    kb.kb.ingest("returns.md", RETURNS_MD.encode())

    kb.kb.search("refund timing")

    [retrieval] = kb.finished("retrieval")
    assert "gen_ai.retrieval.query.text" not in (retrieval.attributes or {})
    assert (retrieval.attributes or {})["observatory.retrieval.hits"] >= 1


def test_a_slow_document_does_not_hold_up_another_upload(
    kb: Kb, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    embedding = kb.kb.embedding
    embed = embedding.embed
    release = threading.Event()
    embedding_started = threading.Event()

    def slow_for_the_big_file(texts: list[str]) -> object:
        if any("SLOW" in text for text in texts):
            embedding_started.set()
            assert release.wait(60)
        return embed(texts)

    monkeypatch.setattr(embedding, "embed", slow_for_the_big_file)
    slow = threading.Thread(
        target=kb.kb.ingest, args=("big.md", b"# Big\n\nSLOW tent manual " * 50)
    )
    slow.start()
    assert embedding_started.wait(30)
    quick = threading.Thread(target=kb.kb.ingest, args=("returns.md", RETURNS_MD.encode()))
    quick.start()
    quick.join(30)
    finished_while_the_other_embedded = not quick.is_alive()
    release.set()
    slow.join(60)
    quick.join(60)

    assert finished_while_the_other_embedded
    assert sorted(d.filename for d in kb.kb.list_documents()) == ["big.md", "returns.md"]


def test_a_file_ingested_soon_is_indexed_off_the_callers_thread(kb: Kb) -> None:
    import threading

    seen: list[str] = []
    embed = kb.kb.embedding.embed

    def note_thread(texts: list[str]) -> object:
        seen.append(threading.current_thread().name)
        return embed(texts)

    kb.kb.embedding.embed = note_thread  # type: ignore[method-assign]
    future = kb.kb.ingest_soon("returns.md", RETURNS_MD.encode(), scope="conversation-1")
    result = future.result(timeout=60)

    assert result.chunks > 0 and not result.unchanged
    assert seen and all(name.startswith("kb-ingest") for name in seen)
    assert [d.filename for d in kb.kb.list_documents("conversation-1")] == ["returns.md"]


def test_a_refused_file_ingested_soon_keeps_its_sentence_in_the_future(kb: Kb) -> None:
    future = kb.kb.ingest_soon("empty.md", b"")

    assert isinstance(future.exception(timeout=60), DocumentRejected)
    assert "empty" in str(future.exception())


def test_a_search_names_its_question_by_a_hash_that_ignores_case_and_punctuation(
    kb: Kb,
) -> None:
    kb.kb.ingest("returns.md", RETURNS_MD.encode())

    kb.kb.search("How long do refunds take?")
    kb.kb.search("how long do REFUNDS take")
    kb.kb.search("How long do returns take?")

    first, again, other = [
        (s.attributes or {})["observatory.retrieval.query.hash"] for s in kb.finished("retrieval")
    ]
    assert first == again != other
    assert "refund" not in first
