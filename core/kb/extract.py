"""Turn an uploaded file into pages of text, or refuse it with one sentence.

Markdown and plain text are one page without a number; a PDF gives one page per PDF page,
numbered from 1. Text that is not UTF-8 is read as Windows-1252 (the usual culprit) with a note
saying so, rather than refused; text with NUL bytes is binary and refused.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePath

from pypdf import PdfReader
from pypdf.errors import PdfReadError, PyPdfError

from core.errors import DocumentRejected

log = logging.getLogger(__name__)


class FileKind(StrEnum):
    MARKDOWN = "text/markdown"
    TEXT = "text/plain"
    PDF = "application/pdf"


SUFFIXES: dict[str, FileKind] = {
    ".md": FileKind.MARKDOWN,
    ".markdown": FileKind.MARKDOWN,
    ".txt": FileKind.TEXT,
    ".text": FileKind.TEXT,
    ".pdf": FileKind.PDF,
}


@dataclass(frozen=True)
class Page:
    """The text of one page; ``number`` is ``None`` for files without pages."""

    number: int | None
    text: str


@dataclass(frozen=True)
class Extracted:
    kind: FileKind
    pages: tuple[Page, ...]
    title: str
    notes: tuple[str, ...] = ()


def kind_of(filename: str) -> FileKind:
    """The file's kind from its extension; unsupported extensions are rejected."""
    kind = SUFFIXES.get(PurePath(filename).suffix.lower())
    if kind is None:
        accepted = ", ".join(sorted(SUFFIXES))
        raise DocumentRejected(
            f"{filename} is not a supported type; upload one of {accepted}."
        )
    return kind


def extract(filename: str, data: bytes, *, max_mb: float) -> Extracted:
    """The pages of ``data``; raises ``DocumentRejected`` for anything we cannot index."""
    kind = kind_of(filename)
    if not data:
        raise DocumentRejected(f"{filename} is empty; there is nothing to index.")
    if len(data) > max_mb * 2**20:
        raise DocumentRejected(
            f"{filename} is {len(data) / 2**20:.3g} MB, over the {max_mb:g} MB "
            "upload limit (vectors.max_upload_mb); split it or raise the limit."
        )
    if kind is FileKind.PDF:
        return _extract_pdf(filename, data)
    text, notes = _decode(filename, data)
    if not text.strip():
        raise DocumentRejected(f"{filename} holds only blank space; there is nothing to index.")
    title = _markdown_title(text) if kind is FileKind.MARKDOWN else None
    return Extracted(kind, (Page(None, text),), title or PurePath(filename).stem, notes)


def _decode(filename: str, data: bytes) -> tuple[str, tuple[str, ...]]:
    if b"\x00" in data:
        raise DocumentRejected(
            f"{filename} looks like a binary file, not text; upload Markdown, text or PDF."
        )
    try:
        return data.decode("utf-8-sig"), ()
    except UnicodeDecodeError:
        pass
    note = f"{filename} is not UTF-8; it was read as Windows-1252 (Western European)."
    return data.decode("cp1252", errors="replace"), (note,)


def _markdown_title(text: str) -> str | None:
    for line in text.splitlines():
        if line.startswith("# "):
            return line[2:].strip() or None
    return None


def _extract_pdf(filename: str, data: bytes) -> Extracted:
    if not data.lstrip()[:5] == b"%PDF-":
        raise DocumentRejected(f"{filename} is not a PDF file (it lacks the PDF header).")
    try:
        reader = PdfReader(io.BytesIO(data))
        _unlock(filename, reader)
        pages = tuple(
            Page(number, page.extract_text() or "")
            for number, page in enumerate(reader.pages, start=1)
        )
        title = reader.metadata.title if reader.metadata else None
    except DocumentRejected:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        log.info("unreadable PDF %s: %s", filename, exc)
        raise DocumentRejected(
            f"{filename} is damaged and cannot be read; export it again and re-upload."
        ) from exc
    if not pages:
        raise DocumentRejected(f"{filename} has no pages; there is nothing to index.")
    if not any(page.text.strip() for page in pages):
        raise DocumentRejected(
            f"{filename} has no text layer (it looks scanned); run OCR on it and re-upload."
        )
    return Extracted(FileKind.PDF, pages, (title or "").strip() or PurePath(filename).stem)


def _unlock(filename: str, reader: PdfReader) -> None:
    if not reader.is_encrypted:
        return
    locked = DocumentRejected(
        f"{filename} is password-protected; remove the password and re-upload."
    )
    try:
        opened = reader.decrypt("")
    except (PdfReadError, PyPdfError, NotImplementedError) as exc:
        raise locked from exc
    if not opened:
        raise locked
