"""Chunk sizes, overlap, headings and offsets."""

from __future__ import annotations

from core.kb.chunking import chunk_pages
from core.kb.embedder import get_local_embedder
from core.kb.extract import markdown_headings
from core.kb.extracted import Heading, Page

OFFSETS = get_local_embedder().token_offsets


def _markdown(text: str) -> Page:
    return Page(None, text, markdown_headings(text))


def test_markdown_sections_become_chunks_with_their_heading() -> None:
    intro = " ".join(["Our packing guide helps you choose what to bring."] * 8)
    body = " ".join(["Layer merino wool under a waterproof shell in the rain."] * 8)
    text = f"# Packing guide\n\n{intro}\n\n## Rain gear\n\n{body}\n"

    chunks = chunk_pages([_markdown(text)], OFFSETS, chunk_tokens=500, overlap=50)

    assert [c.heading for c in chunks] == ["Packing guide", "Rain gear"]
    assert chunks[1].text.startswith("## Rain gear")
    assert all(text[c.start : c.end] == c.text for c in chunks)


def test_tiny_title_section_joins_the_next_one() -> None:
    body = " ".join(["Boots need a day of wear before a long hike."] * 10)
    text = f"# Boots\n\n## Breaking them in\n\n{body}"

    [chunk] = chunk_pages([_markdown(text)], OFFSETS, chunk_tokens=500, overlap=50)

    assert chunk.start == 0 and chunk.heading == "Breaking them in"


def test_long_text_is_windowed_to_the_token_budget_ending_on_sentences() -> None:
    text = " ".join(f"Stove number {n} burns white gas for an hour." for n in range(80))

    chunks = chunk_pages([Page(3, text)], OFFSETS, chunk_tokens=100, overlap=20)

    assert len(chunks) >= 8
    assert all(len(OFFSETS(c.text)) <= 100 for c in chunks)
    assert all(c.text.endswith(".") for c in chunks)
    assert all(c.page == 3 and c.heading is None for c in chunks)
    assert chunks[1].start < chunks[0].end


def test_a_page_starts_in_the_section_the_previous_page_ended_in() -> None:
    body = " ".join(["The fly sheet is rated to three thousand millimetres of rain."] * 6)
    first = f"Tents\n{body}\nRepairs\n{body}"
    headings = (Heading(0, "Tents"), Heading(first.index("Repairs"), "Repairs"))

    chunks = chunk_pages(
        [Page(1, first, headings), Page(2, body)], OFFSETS, chunk_tokens=500, overlap=50
    )

    assert [(c.page, c.heading) for c in chunks] == [(1, "Tents"), (1, "Repairs"), (2, "Repairs")]
    assert chunks[1].text.startswith("Repairs\n")


def test_blank_pages_give_no_chunks() -> None:
    pages = [Page(1, "   \n"), Page(2, "Only page two has words.")]

    chunks = chunk_pages(pages, OFFSETS, chunk_tokens=500, overlap=50)

    assert [(c.page, c.text) for c in chunks] == [(2, "Only page two has words.")]
