"""Read a PDF into numbered pages of text with their section headings, or refuse it in a sentence.

Headings come from the font sizes pypdf reports while it extracts the text (no second pass): the
body size is the one most of the document's running text is set in (runs of ``BODY_RUN_CHARS``
or more, so many small table cells do not outvote the paragraphs), and a line of at most
``MAX_HEADING_CHARS`` whose every character is at least ``HEADING_SCALE`` times that size is a
heading (a title wrapped over two lines is one heading). PDFs whose headings differ from the body
only by weight, not size, get none. Encrypted PDFs open when the user password is empty (RC4 or
AES; AES needs ``cryptography``); a real password is refused.
"""

from __future__ import annotations

import io
import logging
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from pypdf import PageObject, PdfReader
from pypdf.errors import DependencyError, LimitReachedError, PyPdfError

from core.errors import DocumentRejected, KnowledgeBaseError
from core.kb.extracted import Extracted, FileKind, Heading, Page

log = logging.getLogger(__name__)

HEADING_SCALE = 1.15
MAX_HEADING_CHARS = 120
BODY_RUN_CHARS = 40
_LINE = re.compile(r"[^\n]+")


@dataclass(frozen=True)
class _Run:
    """A piece of text pypdf drew, in its effective font size (points)."""

    text: str
    size: float


@dataclass
class _PageRuns:
    text: str = ""
    runs: list[_Run] = field(default_factory=list)


def read_pdf(filename: str, data: bytes, *, max_pages: int = 500) -> Extracted:
    """The pages of a PDF, numbered from 1, each with its headings; a PDF of more than
    ``max_pages`` pages is refused before any page is read."""
    if not data.lstrip()[:5] == b"%PDF-":
        raise DocumentRejected(f"{filename} is not a PDF file (it lacks the PDF header).")
    try:
        reader = PdfReader(io.BytesIO(data))
        _unlock(filename, reader)
        if (count := len(reader.pages)) > max_pages:
            raise DocumentRejected(
                f"{filename} has {count:,} pages, more than the {max_pages:,} one document may "
                "have (vectors.max_pages); split it or raise the limit."
            )
        read = [_read_page(page) for page in reader.pages]
        title = reader.metadata.title if reader.metadata else None
    except (DocumentRejected, KnowledgeBaseError):
        raise
    except LimitReachedError as exc:
        log.info("PDF %s decompresses past pypdf's limits: %s", filename, exc)
        raise DocumentRejected(
            f"{filename} is too large once decompressed (it expands far beyond its file size); "
            "export it again without that content, or split it."
        ) from exc
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        log.info("unreadable PDF %s: %s", filename, exc)
        raise DocumentRejected(
            f"{filename} is damaged and cannot be read; export it again and re-upload."
        ) from exc
    if not read:
        raise DocumentRejected(f"{filename} has no pages; there is nothing to index.")
    if not any(page.text.strip() for page in read):
        raise DocumentRejected(
            f"{filename} has no text layer (it looks scanned); run OCR on it and re-upload."
        )
    body = _body_size(read)
    pages = tuple(
        Page(number, page.text, find_headings(page.text, page.runs, body))
        for number, page in enumerate(read, start=1)
    )
    return Extracted(FileKind.PDF, pages, (title or "").strip() or PurePath(filename).stem)


def find_headings(text: str, runs: Sequence[_Run], body: float | None) -> tuple[Heading, ...]:
    """The lines of ``text`` set wholly in a font ``HEADING_SCALE`` times the body size."""
    if body is None:
        return ()
    large = _large_characters(text, runs, body * HEADING_SCALE)
    headings: list[Heading] = []
    previous_end = -2
    for line in _LINE.finditer(text):
        words = line.group().strip()
        start, end = line.span()
        is_heading = (
            len(words) <= MAX_HEADING_CHARS
            and any(c.isalpha() for c in words)
            and all(large[i] or text[i].isspace() for i in range(start, end))
        )
        if not is_heading:
            continue
        if headings and previous_end + 1 == start:  # a wrapped title: one heading
            last = headings.pop()
            headings.append(Heading(last.start, f"{last.text} {words}"))
        else:
            headings.append(Heading(start, words))
        previous_end = end
    return tuple(headings)


def _read_page(page: PageObject) -> _PageRuns:
    read = _PageRuns()

    def visit(text: str, cm: Any, tm: Any, _font: Any, font_size: float) -> None:
        if text.strip():
            area = (tm[0] * tm[3] - tm[1] * tm[2]) * (cm[0] * cm[3] - cm[1] * cm[2])
            read.runs.append(_Run(text, font_size * math.sqrt(abs(area))))

    contents = page.get_contents()
    if contents is not None:
        contents.get_data()  # raises LimitReachedError for a bomb, which extract_text swallows
    read.text = page.extract_text(visitor_text=visit) or ""
    return read


def _body_size(pages: Sequence[_PageRuns]) -> float | None:
    """The font size (to half a point) most of the document's running text is set in."""
    runs = [run for page in pages for run in page.runs]
    long_runs = [run for run in runs if len(run.text.strip()) >= BODY_RUN_CHARS]
    sizes: Counter[float] = Counter()
    for run in long_runs or runs:
        sizes[round(run.size * 2) / 2] += len(run.text.strip())
    return sizes.most_common(1)[0][0] if sizes else None


def _large_characters(text: str, runs: Sequence[_Run], threshold: float) -> list[bool]:
    """Per character of ``text``: was it drawn at ``threshold`` points or more?"""
    large = [False] * len(text)
    cursor = 0
    for run in runs:
        piece = run.text.strip()
        at = text.find(piece, cursor)
        if at < 0:
            continue
        if run.size >= threshold:
            large[at : at + len(piece)] = [True] * len(piece)
        cursor = at + len(piece)
    return large


def _unlock(filename: str, reader: PdfReader) -> None:
    if not reader.is_encrypted:
        return
    locked = DocumentRejected(
        f"{filename} is password-protected; remove the password and re-upload."
    )
    try:
        opened = reader.decrypt("")
    except DependencyError as exc:
        raise KnowledgeBaseError(
            f"{filename} is AES-encrypted and the cryptography package is missing; "
            "reinstall the app's dependencies (pip install -e .)."
        ) from exc
    except (PyPdfError, NotImplementedError) as exc:
        raise locked from exc
    if not opened:
        raise locked
