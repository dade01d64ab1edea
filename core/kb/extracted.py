"""What reading a file yields: its kind, its pages of text and the headings found in them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


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
