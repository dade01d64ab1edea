"""Cut pages into chunks of about ``chunk_tokens`` tokens that overlap by ``overlap`` tokens.

Pages are first split at their headings (Markdown's ``#`` lines, a PDF's larger-font lines) so a
chunk rarely spans two sections; a section shorter than ``MIN_SECTION_TOKENS`` (a title line, a
one-line intro) joins the section after it, and text before a page's first heading belongs to the
section the previous page ended in. A long
section is cut into token windows whose ends move back to a paragraph or sentence end when one
lies in the window's last quarter. Every chunk keeps its page and the character offsets of its
text in that page's text, which is what citations point at.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from core.kb.extracted import Page

MIN_SECTION_TOKENS = 40
TokenOffsets = Callable[[str], Sequence[tuple[int, int]]]
_BREAK = re.compile(r"\n\s*\n|(?<=[.!?])\s+|\n")


@dataclass(frozen=True)
class Chunk:
    """A piece of a page: ``text == page_text[start:end]``."""

    page: int | None
    heading: str | None
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class _Section:
    start: int
    end: int
    heading: str | None


def chunk_pages(
    pages: Sequence[Page],
    token_offsets: TokenOffsets,
    *,
    chunk_tokens: int,
    overlap: int,
    limit: int | None = None,
) -> list[Chunk]:
    """Every page's chunks in reading order; blank pages give none. With ``limit``, chunking
    stops once that many chunks are made (so an oversized document is refused quickly)."""
    if overlap >= chunk_tokens:
        overlap = chunk_tokens // 4
    chunks: list[Chunk] = []
    carried: str | None = None
    for page in pages:
        spans = list(token_offsets(page.text))
        starts = [span[0] for span in spans]
        for section in _sections(page, starts, carried):
            cuts = _windows(page.text, spans, starts, section, chunk_tokens, overlap)
            made = (_chunk(page, section.heading, start, end) for start, end in cuts)
            chunks.extend(chunk for chunk in made if chunk.text)
            if limit is not None and len(chunks) >= limit:
                return chunks[:limit]
        if page.headings:
            carried = page.headings[-1].text
    return chunks


def _chunk(page: Page, heading: str | None, start: int, end: int) -> Chunk:
    raw = page.text[start:end]
    start += len(raw) - len(raw.lstrip())
    end -= len(raw) - len(raw.rstrip())
    return Chunk(page.number, heading, start, max(start, end), page.text[start:end])


def _sections(page: Page, starts: list[int], carried: str | None) -> list[_Section]:
    marks: list[tuple[int, str | None]] = [(h.start, h.text) for h in page.headings]
    if not marks or marks[0][0] > 0:
        marks.insert(0, (0, carried))
    bounds = [start for start, _ in marks] + [len(page.text)]
    sections = [
        _Section(bounds[i], bounds[i + 1], heading) for i, (_, heading) in enumerate(marks)
    ]
    merged: list[_Section] = []
    carry: _Section | None = None
    for section in sections:
        if carry is not None:
            section = _Section(carry.start, section.end, section.heading or carry.heading)
        tokens = bisect.bisect_left(starts, section.end) - bisect.bisect_left(starts, section.start)
        carry = section if tokens < MIN_SECTION_TOKENS else None
        if carry is None:
            merged.append(section)
    if carry is not None:
        if merged:
            last = merged.pop()
            carry = _Section(last.start, carry.end, last.heading)
        merged.append(carry)
    return merged


def _windows(
    text: str,
    spans: list[tuple[int, int]],
    starts: list[int],
    section: _Section,
    size: int,
    overlap: int,
) -> list[tuple[int, int]]:
    first = bisect.bisect_left(starts, section.start)
    last = bisect.bisect_left(starts, section.end)
    if last - first <= size:
        return [(section.start, section.end)]
    cuts: list[tuple[int, int]] = []
    begin = first
    while True:
        stop = min(begin + size, last)
        if stop == last:
            cuts.append((spans[begin][0] if cuts else section.start, section.end))
            return cuts
        stop = _snap(text, spans, starts, begin + size - size // 4, stop)
        cuts.append((spans[begin][0] if cuts else section.start, spans[stop - 1][1]))
        begin = max(stop - overlap, begin + 1)


def _snap(
    text: str, spans: list[tuple[int, int]], starts: list[int], low: int, stop: int
) -> int:
    """The token index to end at: after the last paragraph/sentence break in tokens[low:stop]."""
    window_start, window_end = spans[low][0], spans[stop - 1][1]
    breaks = [m.end() for m in _BREAK.finditer(text, window_start, window_end)]
    if not breaks:
        return stop
    return max(bisect.bisect_left(starts, breaks[-1]), low + 1)
