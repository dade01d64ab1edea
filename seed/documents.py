"""The seed knowledge base: help-centre articles (Markdown) and PDFs made from ``pdf_sources``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from seed.pdf import render_markdown_pdf

SEED_DIR = Path(__file__).resolve().parent
ARTICLES_DIR = SEED_DIR / "articles"
PDF_SOURCES_DIR = SEED_DIR / "pdf_sources"


@dataclass(frozen=True)
class SeedDocument:
    filename: str
    title: str
    data: bytes


def title_of(markdown: str, fallback: str) -> str:
    """The text of the first ``# `` heading, or ``fallback``."""
    for line in markdown.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return fallback


def iter_seed_documents() -> Iterator[SeedDocument]:
    """Every article as Markdown bytes, then every PDF source rendered to PDF, in name order."""
    for path in sorted(ARTICLES_DIR.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        yield SeedDocument(path.name, title_of(text, path.stem), text.encode("utf-8"))
    for path in sorted(PDF_SOURCES_DIR.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        title = title_of(text, path.stem)
        yield SeedDocument(f"{path.stem}.pdf", title, render_markdown_pdf(text, title))
