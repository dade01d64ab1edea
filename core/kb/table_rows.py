"""The rows of a chunk's Markdown tables, each as a sentence under its heading, to embed alone.

A chunk's vector is the mean of everything in it, so one row of a table ("| Phone: 1-800-555-0142 |
Mon–Fri … | Under 5 minutes |") says little in it, and a question about that row ("What's your
phone number?") finds chunks that mention phones in passing first. Each body row is therefore
embedded as well, as ``Title\\nHeading\\nPhone: 1-800-555-0142: when Mon–Fri …, typical response
under 5 minutes on average.`` — its cells named by the table's header, under the heading above
the table — and a chunk is found by its closest row when that is closer than the whole.
"""

from __future__ import annotations

import re

_HEADING = re.compile(r"^\s*#{1,6}\s+(.*?)\s*#*\s*$")
_MARKS = re.compile(r"\*\*|__|`")


def table_row_texts(title: str, heading: str | None, text: str) -> list[str]:
    """One text per body row of the Markdown tables in ``text``, in reading order."""
    rows: list[str] = []
    header: list[str] | None = None
    for line in text.splitlines():
        marked = _HEADING.match(line)
        if marked:
            heading = _MARKS.sub("", marked.group(1))
        cells = _cells(line)
        if cells is None:
            header = None
        elif header is None:
            header = cells
        elif not all(set(cell) <= set("-: ") for cell in cells) and cells[0]:
            rows.append("\n".join(filter(None, (title, heading, _sentence(header, cells)))))
    return rows


def _cells(line: str) -> list[str] | None:
    stripped = line.strip()
    if len(stripped) < 2 or not (stripped.startswith("|") and stripped.endswith("|")):
        return None
    return [_MARKS.sub("", cell).strip() for cell in stripped[1:-1].split("|")]


def _sentence(header: list[str], cells: list[str]) -> str:
    named = [
        f"{name[:1].lower()}{name[1:]} {cell}"
        for name, cell in zip(header[1:], cells[1:], strict=False)
        if cell
    ]
    return f"{cells[0]}: {', '.join(named)}." if named else f"{cells[0]}."
