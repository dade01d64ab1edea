"""Turn an uploaded file into pages of text with their headings, or refuse it with one sentence.

Markdown and plain text are one page without a number (decoded by ``core.kb.decode``; Markdown's
``#`` lines are its headings); a PDF gives one page per PDF page, numbered from 1
(``core.kb.pdf``).
"""

from __future__ import annotations

import re
from pathlib import PurePath

from core.errors import DocumentRejected
from core.kb.decode import decode_text
from core.kb.extracted import Extracted, FileKind, Heading, Page
from core.kb.pdf import read_pdf

SUFFIXES: dict[str, FileKind] = {
    ".md": FileKind.MARKDOWN,
    ".markdown": FileKind.MARKDOWN,
    ".txt": FileKind.TEXT,
    ".text": FileKind.TEXT,
    ".pdf": FileKind.PDF,
}
_MARKDOWN_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.MULTILINE)


def kind_of(filename: str) -> FileKind:
    """The file's kind from its extension; unsupported extensions are rejected."""
    kind = SUFFIXES.get(PurePath(filename).suffix.lower())
    if kind is None:
        accepted = ", ".join(sorted(SUFFIXES))
        raise DocumentRejected(
            f"{filename} is not a supported type; upload one of {accepted}."
        )
    return kind


def is_markdown(filename: str) -> bool:
    """True for the extensions read as Markdown (whose chunks may be shown formatted)."""
    return SUFFIXES.get(PurePath(filename).suffix.lower()) is FileKind.MARKDOWN


def extract(filename: str, data: bytes, *, max_mb: float, max_pages: int = 500) -> Extracted:
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
        return read_pdf(filename, data, max_pages=max_pages)
    decoded = decode_text(filename, data)
    text = decoded.text
    if not text.strip():
        raise DocumentRejected(f"{filename} holds only blank space; there is nothing to index.")
    notes = (decoded.note,) if decoded.note else ()
    if kind is FileKind.TEXT:
        return Extracted(kind, (Page(None, text),), PurePath(filename).stem, notes)
    headings = markdown_headings(text)
    title = next((h.text for h in headings if text.startswith("# ", h.start)), None)
    return Extracted(kind, (Page(None, text, headings),), title or PurePath(filename).stem, notes)


def markdown_headings(text: str) -> tuple[Heading, ...]:
    """Every ``#``…``######`` line of Markdown ``text``."""
    return tuple(Heading(m.start(), m.group(2).strip()) for m in _MARKDOWN_HEADING.finditer(text))
