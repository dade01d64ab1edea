"""Search results: the hit type, the ``retrieval`` span and the ``<sources>`` block for prompts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from opentelemetry import trace

from core.kb.fusion import SearchMode
from core.kb.vector_store import Candidate
from observability import attributes as attr
from observability.insights.definitions import question_hash
from observability.redaction import default_redactor

SOURCE_SEPARATOR = " — "


@dataclass(frozen=True)
class SearchHit:
    """One retrieved chunk with what a citation needs and every score that ranked it.

    ``start``/``end`` are character offsets of ``text`` in the page's extracted text (the whole
    file for Markdown and text). ``dense_score`` is the cosine similarity, ``keyword_score`` the
    BM25-style score (``None`` when the keyword side did not find the chunk), ``score`` the value
    the hits are ordered by (fused for hybrid search).
    """

    document_id: int
    title: str
    filename: str
    page: int | None
    heading: str | None
    start: int
    end: int
    text: str
    dense_score: float
    keyword_score: float | None
    score: float

    @property
    def label(self) -> str:
        """``Title — p.2`` (or just the title for files without pages)."""
        if self.page is None:
            return self.title
        return f"{self.title}{SOURCE_SEPARATOR}p.{self.page}"


def to_hit(candidate: Candidate, score: float) -> SearchHit:
    """A ``SearchHit`` from a ranked candidate's payload."""
    payload = candidate.payload
    return SearchHit(
        document_id=int(payload["document_id"]),
        title=str(payload["title"]),
        filename=str(payload["filename"]),
        page=payload.get("page"),
        heading=payload.get("heading"),
        start=int(payload["start"]),
        end=int(payload["end"]),
        text=str(payload["text"]),
        dense_score=round(candidate.dense_score, 4),
        keyword_score=_rounded(candidate.keyword_score),
        score=round(score, 6),
    )


def _rounded(score: float | None) -> float | None:
    return None if score is None else round(score, 4)


def format_sources(hits: Sequence[SearchHit]) -> str:
    """The ``<sources>`` block for a system prompt; empty when there are no hits.

    ::

        <sources>
        [1] Returns policy — p.2
        text…

        [2] Shipping
        text…
        </sources>
    """
    if not hits:
        return ""
    entries = [f"[{number}] {hit.label}\n{hit.text.strip()}" for number, hit in enumerate(hits, 1)]
    return "<sources>\n" + "\n\n".join(entries) + "\n</sources>"


def retrieval_attributes(
    collection: str, mode: SearchMode, fusion: str, top_k: int
) -> dict[str, Any]:
    """The attributes a ``retrieval {collection}`` span starts with."""
    return {
        "gen_ai.operation.name": "retrieval",
        "gen_ai.data_source.id": collection,
        "gen_ai.request.top_k": top_k,
        "observatory.retrieval.mode": mode.value,
        "observatory.retrieval.fusion": fusion if mode is SearchMode.HYBRID else mode.value,
    }


def record_results(
    span: trace.Span, query: str, hits: Sequence[SearchHit], *, capture_content: bool
) -> None:
    """Hit count, best score and the question's hash always; the (redacted) query and top
    documents on capture."""
    redacted = default_redactor(query)
    span.set_attribute("observatory.retrieval.hits", len(hits))
    span.set_attribute(attr.RETRIEVAL_QUERY_HASH, question_hash(redacted))
    if hits:
        span.set_attribute("observatory.retrieval.top_score", hits[0].score)
    if not capture_content:
        return
    span.set_attribute("gen_ai.retrieval.query.text", redacted)
    documents = [
        {"id": hit.document_id, "title": hit.label, "score": hit.score,
         "dense": hit.dense_score, "keyword": hit.keyword_score}
        for hit in hits
    ]
    span.set_attribute("gen_ai.retrieval.documents", json.dumps(documents))
