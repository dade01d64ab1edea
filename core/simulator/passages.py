"""A retrieved passage read as the pieces an answer can quote, each under its heading.

Pieces (``Unit``) are prose sentences, the sentences of list items (numbered ones are steps) and
Markdown table rows, described as sentences. Each knows its heading, the sentence ending in ":" that
introduces its list or table (its ``lead``) and the block it belongs to, so an answer can give
a whole list of steps or name what a list item is an example of. Left out: headings, questions
("Forgot your password?"), lead sentences on their own, and PDF tables (runs of three or more
short lines without punctuation, ``tables.is_cell_line``). A PDF's short stand-alone lines
("7. Repair drop-off appointments") are headings; clause numbers ("6.2") are dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from core.simulator.tables import Row, is_cell_line, is_separator, read_row

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(“])")
_HEADING = re.compile(r"^\s*#{1,6}\s+(.*?)\s*#*\s*$")
_ITEM = re.compile(r"^(\s*)([-*•]|\d+[.)])\s+(.*)$")
_NUMBERING = re.compile(r"^(\d+(\.\d+)*\.?|\(\w\))\s+")
_EMPHASIS = re.compile(r"\*\*|__|`")
_TRAILING_JOIN = re.compile(r"[,;]\s*(and|or)?\s*$")
MIN_WORDS = 4
"""Shorter sentences ("Plans change.") say nothing on their own."""


class Kind(StrEnum):
    SENTENCE = "sentence"
    ITEM = "item"
    STEP = "step"
    ROW = "row"


class _Line(StrEnum):
    BLANK = "blank"
    HEADING = "heading"
    ROW = "row"
    ITEM = "item"
    CELL = "cell"
    """Short, no closing punctuation: a PDF table cell, or a heading when alone."""
    SKIP = "skip"
    TEXT = "text"


@dataclass(frozen=True)
class Unit:
    """One quotable piece of a passage. ``group`` numbers its paragraph, list or table within
    the passage, ``item`` the list item or row within that (a list item of several sentences
    gives a piece per sentence), ``section`` its heading's section, ``opening`` the first
    sentence of its list item when it is a later one ("The parcel reaches the warehouse." for
    "Most US returns arrive 3–8 business days after drop-off.")."""

    text: str
    kind: Kind
    heading: str = ""
    lead: str = ""
    section: int = 0
    group: int = 0
    item: int = 0
    row: Row | None = None
    opening: str = ""

    @property
    def own_text(self) -> str:
        """What the piece itself says: a row's cells (its column names label it, like a
        heading), else its text."""
        if self.row is None:
            return self.text
        return " ".join((self.row.name, *self.row.cells[1:]))


@dataclass
class _Block:
    kind: Kind
    heading: str
    section: int
    lines: list[str] = field(default_factory=list)
    header: tuple[str, ...] = ()


def read_units(text: str) -> list[Unit]:
    """The quotable pieces of ``text`` in reading order."""
    units: list[Unit] = []
    blocks = _blocks(text)
    for index, block in enumerate(blocks):
        following = blocks[index + 1] if index + 1 < len(blocks) else None
        lead = _lead(blocks[index - 1], block) if index else ""
        openings: dict[int, str] = {}
        for item, piece, row in _pieces(block, following):
            first = openings.setdefault(item, piece)
            opening = first if block.kind in (Kind.ITEM, Kind.STEP) and first != piece else ""
            units.append(
                Unit(
                    piece, block.kind, block.heading, lead, block.section, index, item, row, opening
                )
            )
    return units


def _pieces(block: _Block, following: _Block | None) -> list[tuple[int, str, Row | None]]:
    """(item number, text, row) of each piece of ``block``."""
    if block.kind is Kind.ROW:
        rows = [Row(block.header, tuple(cells)) for cells in map(read_row, block.lines) if cells]
        return [(index, row.describe(), row) for index, row in enumerate(rows) if row.cells[0]]
    if block.kind is not Kind.SENTENCE:
        items = [_TRAILING_JOIN.sub("", _clean(line)) for line in block.lines]
        return [
            (index, sentence, None)
            for index, item in enumerate(items)
            for sentence in _SENTENCE_END.split(item)
            if len(item) > 3
        ]
    sentences = [_clean(s) for s in _SENTENCE_END.split(" ".join(block.lines))]
    if following is not None and _lead(block, following):
        sentences = sentences[:-1]
    kept = (s for s in sentences if len(s.split()) >= MIN_WORDS and not s.endswith(("?", ":")))
    return [(0, sentence, None) for sentence in kept]


def _lead(before: _Block, block: _Block) -> str:
    """The sentence ending in ":" right before a list or table, in the same section."""
    if block.kind is Kind.SENTENCE or before.kind is not Kind.SENTENCE:
        return ""
    if before.section != block.section or not before.lines:
        return ""
    last = _clean(_SENTENCE_END.split(" ".join(before.lines))[-1])
    return last.rstrip(":") if last.endswith(":") else ""


def _clean(text: str) -> str:
    return _NUMBERING.sub("", " ".join(_EMPHASIS.sub("", text).split()))


def _blocks(text: str) -> list[_Block]:
    lines = text.splitlines()
    kinds = _line_kinds(lines)
    blocks: list[_Block] = []
    heading, section = "", 0
    current: _Block | None = None
    for line, kind in zip(lines, kinds, strict=True):
        if kind is _Line.HEADING:
            heading, section, current = _heading_text(line), section + 1, None
            continue
        if kind in (_Line.BLANK, _Line.SKIP):
            current = None
            continue
        if kind is _Line.ROW:
            cells = read_row(line) or []
            if current is None or current.kind is not Kind.ROW:
                current = _Block(Kind.ROW, heading, section, header=tuple(cells))
                blocks.append(current)
            elif not is_separator(cells):
                current.lines.append(line)
            continue
        if kind is _Line.ITEM:
            item = _ITEM.match(line)
            assert item is not None
            item_kind = Kind.STEP if item.group(2)[0].isdigit() else Kind.ITEM
            if current is None or current.kind is not item_kind:
                current = _Block(item_kind, heading, section)
                blocks.append(current)
            current.lines.append(item.group(3).strip())
            continue
        if current is not None and current.kind is not Kind.SENTENCE and line[:1].isspace():
            current.lines[-1] += " " + line.strip()
            continue
        if current is None or current.kind is not Kind.SENTENCE:
            current = _Block(Kind.SENTENCE, heading, section)
            blocks.append(current)
        current.lines.append(line.strip())
    return blocks


def _heading_text(line: str) -> str:
    marked = _HEADING.match(line)
    return _clean(marked.group(1) if marked else line)


def _line_kinds(lines: list[str]) -> list[_Line]:
    """What each line is; runs of cells are PDF tables (skipped) or, alone, headings."""
    kinds = [_line_kind(line) for line in lines]
    start = 0
    while start < len(kinds):
        if kinds[start] is not _Line.CELL:
            start += 1
            continue
        end = start
        while end < len(kinds) and kinds[end] is _Line.CELL:
            end += 1
        after_sentence = (
            start == 0
            or kinds[start - 1] in (_Line.BLANK, _Line.HEADING)
            or (lines[start - 1].rstrip().endswith((".", "!", "?", ":")))
        )
        alone = _Line.HEADING if after_sentence else _Line.TEXT
        kinds[start:end] = [_Line.SKIP if end - start >= 3 else alone] * (end - start)
        start = end
    for index, kind in enumerate(kinds):
        if kind is _Line.ITEM and _is_numbered_heading(lines, kinds, index):
            kinds[index] = _Line.HEADING
    return kinds


def _line_kind(line: str) -> _Line:
    if not line.strip():
        return _Line.BLANK
    if _HEADING.match(line):
        return _Line.HEADING
    if read_row(line) is not None:
        return _Line.ROW
    if _ITEM.match(line):
        return _Line.ITEM
    return _Line.CELL if is_cell_line(line) else _Line.TEXT


def _is_numbered_heading(lines: list[str], kinds: list[_Line], index: int) -> bool:
    """``7. Repair drop-off appointments`` alone between paragraphs of a PDF is a heading."""
    neighbours = [kinds[i] for i in (index - 1, index + 1) if 0 <= i < len(kinds)]
    item = _ITEM.match(lines[index])
    return (
        item is not None
        and item.group(2)[0].isdigit()
        and _Line.ITEM not in neighbours
        and is_cell_line(item.group(3))
    )
