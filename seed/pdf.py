"""Render the simple Markdown of ``seed/pdf_sources`` into a PDF, byte-identical on every run.

Supported: ``#``/``##``/``###`` headings, paragraphs, ``-`` bullets, ``1.`` numbered items and
pipe tables. Byte-identical output keeps the knowledge base's content hash stable, so seeding twice
does not re-embed.
"""

from __future__ import annotations

import html
import io
import re

from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

_STYLES = getSampleStyleSheet()
_HEADINGS = {1: _STYLES["Title"], 2: _STYLES["Heading2"], 3: _STYLES["Heading3"]}
_BODY = _STYLES["BodyText"]
_ITEM = ParagraphStyle("item", parent=_BODY, leftIndent=14, bulletIndent=4)
_CELL = ParagraphStyle("cell", parent=_BODY, fontSize=8.5, leading=10.5)
_NUMBERED = re.compile(r"^(\d+)[.)]\s+(.*)")


def render_markdown_pdf(markdown: str, title: str) -> bytes:
    """A letter-size PDF of ``markdown`` with ``title`` in its metadata; deterministic bytes."""
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=LETTER,
        title=title,
        author="Northwind Outfitters",
        invariant=1,
        leftMargin=0.9 * inch,
        rightMargin=0.9 * inch,
    )
    document.build(_flowables(markdown))
    return buffer.getvalue()


def _flowables(markdown: str) -> list[Flowable]:
    flowables: list[Flowable] = []
    paragraph: list[str] = []
    table: list[list[str]] = []

    def flush() -> None:
        if paragraph:
            flowables.append(Paragraph(_inline(" ".join(paragraph)), _BODY))
            paragraph.clear()
        if table:
            flowables.append(_table(table))
            flowables.append(Spacer(1, 6))
            table.clear()

    for raw in markdown.splitlines():
        line = raw.strip()
        if line.startswith("|"):
            if paragraph:
                flush()
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            if not all(re.fullmatch(r":?-{2,}:?", cell) for cell in cells):
                table.append(cells)
            continue
        if not line:
            flush()
            continue
        heading = re.match(r"^(#{1,3})\s+(.*)", line)
        numbered = _NUMBERED.match(line)
        if heading:
            flush()
            flowables.append(Paragraph(_inline(heading.group(2)), _HEADINGS[len(heading.group(1))]))
        elif line.startswith(("- ", "* ")):
            flush()
            flowables.append(Paragraph(_inline(line[2:]), _ITEM, bulletText="•"))
        elif numbered:
            flush()
            flowables.append(
                Paragraph(_inline(numbered.group(2)), _ITEM, bulletText=f"{numbered.group(1)}.")
            )
        else:
            if table:
                flush()
            paragraph.append(line)
    flush()
    return flowables


def _table(rows: list[list[str]]) -> Table:
    width = max(len(row) for row in rows)
    cells = [
        [Paragraph(_inline(cell), _CELL) for cell in row + [""] * (width - len(row))]
        for row in rows
    ]
    table = Table(cells, repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef4")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _inline(text: str) -> str:
    escaped = html.escape(text, quote=False)
    escaped = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", escaped)
    return re.sub(r"(?<!\*)\*(?!\*)(.+?)(?<!\*)\*(?!\*)", r"<i>\1</i>", escaped)
