"""What reading a file yields: its kind, its pages of text and the headings found in them."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from core.plain_text import storable_in_place


class FileKind(StrEnum):
    MARKDOWN = "text/markdown"
    TEXT = "text/plain"
    PDF = "application/pdf"


@dataclass(frozen=True)
class Heading:
    """A section title: ``start`` is where its line begins in the page's text."""

    start: int
    text: str


@dataclass(frozen=True)
class Page:
    """The text of one page; ``number`` is ``None`` for files without pages.

    ``headings`` are in reading order; text before the first one belongs to the section the
    previous page ended in.
    """

    number: int | None
    text: str
    headings: tuple[Heading, ...] = ()


@dataclass(frozen=True)
class Extracted:
    kind: FileKind
    pages: tuple[Page, ...]
    title: str
    notes: tuple[str, ...] = ()


def storable_extract(extracted: Extracted) -> Extracted:
    """``extracted`` with its text made storable (no NUL, no lone surrogates; a PDF can hold
    both), every heading still at its offset."""
    pages = tuple(
        replace(
            page,
            text=storable_in_place(page.text),
            headings=tuple(replace(h, text=storable_in_place(h.text)) for h in page.headings),
        )
        for page in extracted.pages
    )
    return replace(extracted, pages=pages, title=storable_in_place(extracted.title).strip())
