"""Table rows as sentences, and telling the cells of a PDF table from running text.

A Markdown row ``| Everyone | 30 days | the delivery date |`` under ``| Customer | Return window
| Starts on |`` reads ``Everyone: return window 30 days, starts on the delivery date.``; Yes/No
columns read as where something applies (``PayPal: online.``) and a "Notes" column as a
parenthesis. A size code naming a row of a size table ("M" under "Size") reads with the size's
name ("M (medium)"), so a customer who asks about a medium finds it. Text extracted from a PDF
has no column marks: each cell is a short line without
closing punctuation, and rows whose cells wrap cannot be put back together reliably, so such
runs are recognised (``is_cell_line``) and left out rather than quoted as a jumble of words.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from core.simulator.words import lower_first

MAX_CELL_CHARS = 60
"""Longer lines are running text: PDF paragraphs wrap at 90–110 characters."""
_NOTES = frozenset({"notes", "note", "details", "comments", "remarks"})
_YES_NO = re.compile(r"^(yes|no)\b\W*(.*)$", re.IGNORECASE)
_OPEN_NAME = re.compile(r"^(what|how|why|when|where|who|which)\b|[?\d]$", re.IGNORECASE)
_MARKUP = re.compile(r"^(#|\||[-*•]\s|\d+[.)]\s)")
SIZE_NAMES = {
    "XXS": "extra extra small",
    "XS": "extra small",
    "S": "small",
    "M": "medium",
    "L": "large",
    "XL": "extra large",
    "XXL": "extra extra large",
    "2XL": "extra extra large",
    "XXXL": "extra extra extra large",
    "3XL": "extra extra extra large",
}
"""Clothing size codes and the words customers use for them."""


@dataclass(frozen=True)
class Row:
    """One body row of a Markdown table, with the table's header."""

    header: tuple[str, ...]
    cells: tuple[str, ...]

    @property
    def name(self) -> str:
        """The first cell, a size code with its size's name ("M (medium)") when the first
        column holds sizes."""
        first = self.cells[0]
        size = (
            SIZE_NAMES.get(first.upper())
            if self.header and "size" in self.header[0].lower()
            else None
        )
        return f"{first} ({size})" if size else first

    def columns(self) -> list[tuple[str, str]]:
        """(column name, cell) after the first column, leaving out empty cells."""
        pairs = zip(self.header[1:], self.cells[1:], strict=False)
        return [(name, cell) for name, cell in pairs if cell]

    def describe(self, keep: Callable[[str, str], bool] | None = None) -> str:
        """The row as a sentence naming its columns; with ``keep``, only the columns it
        accepts (all of them when it accepts none)."""
        columns = self.columns()
        if keep is not None:
            columns = [pair for pair in columns if keep(*pair)] or columns
        applies: list[str] = []
        missing: list[str] = []
        described: list[str] = []
        notes: list[str] = []
        for name, cell in columns:
            flag = _YES_NO.match(cell)
            label = lower_first(name)
            if flag and not name.endswith("?"):
                detail = f" ({flag.group(2).rstrip(')')})" if flag.group(2) else ""
                (applies if flag.group(1).lower() == "yes" else missing).append(label + detail)
            elif name.lower() in _NOTES:
                notes.append(lower_first(cell))
            else:
                value = lower_first(cell) if " " not in cell else cell
                described.append(f"{label}{_separator(name)}{value}")
        parts = [" and ".join(applies)] if applies else []
        if missing and not applies:
            parts.append("not " + " or ".join(missing))
        parts.extend(described)
        text = f"{self.name}: {', '.join(parts)}" if parts else self.name
        return text + (f" ({'; '.join(notes)})" if notes else "") + "."


def _separator(name: str) -> str:
    """``return window 30 days`` but ``what it means: the parcel…``: a long or questioning
    column name, or one ending in a number ("Orders under $200"), needs a colon to end it."""
    words = len(name.split())
    long_or_open = words >= 4 or (words > 1 and _OPEN_NAME.search(name) is not None)
    return ": " if long_or_open else " "


def read_row(line: str) -> list[str] | None:
    """The cells of a Markdown table line, or None when ``line`` is not one."""
    stripped = line.strip()
    if len(stripped) < 2 or not (stripped.startswith("|") and stripped.endswith("|")):
        return None
    cells = stripped[1:-1].split("|")
    return [re.sub(r"\*\*|__|`", "", cell).strip().rstrip(".") for cell in cells]


def is_separator(cells: list[str]) -> bool:
    """``|---|:--:|``: the line between a Markdown table's header and its body."""
    return all(set(cell) <= set("-: ") for cell in cells)


def is_cell_line(line: str) -> bool:
    """A short line with no closing punctuation and no Markdown marks: a PDF table cell, or a
    heading when it stands alone between sentences."""
    text = line.strip()
    return (
        0 < len(text) <= MAX_CELL_CHARS and text[-1] not in ".!?:;" and _MARKUP.match(text) is None
    )
