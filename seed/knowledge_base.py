"""Put the seed articles and PDFs into the knowledge base (unchanged files are not re-embedded)."""

from __future__ import annotations

from collections.abc import Callable

from core.kb import KnowledgeBase
from seed.documents import iter_seed_documents
from seed.vectors import shipped_vectors


def seed_knowledge_base(kb: KnowledgeBase, progress: Callable[[str], None] | None = None) -> int:
    """Ingest every seed document as a global ``seed`` document; returns how many were new.

    Chunks take their vectors from the shipped file (``seed.vectors``); the others are embedded
    in one batch per document. A second run finds every file unchanged (same bytes, same scope)
    and embeds nothing.
    """
    say = progress or (lambda _message: None)
    added = 0
    with shipped_vectors(kb):
        for document in iter_seed_documents():
            result = kb.ingest(
                document.filename, document.data, source="seed", title=document.title
            )
            if not result.unchanged:
                say(f"Indexed {document.title}: {result.chunks} chunks.")
                added += 1
    return added
