"""A question about one row of a table finds the chunk that holds the table."""

from __future__ import annotations

from pathlib import Path

from core.kb.table_rows import table_row_texts
from tests.core.kb.conftest import Kb

ARTICLES = Path(__file__).resolve().parents[3] / "seed" / "articles"
CONTACT = "contact-support-and-hours.md"


def _ingest(kb: Kb, *names: str) -> None:
    for name in names:
        kb.kb.ingest(name, (ARTICLES / name).read_bytes())


def test_a_row_reads_as_a_sentence_under_its_heading() -> None:
    text = "## Ways to contact us\n\n| Channel | When |\n|---|---|\n| Phone: 1-800 | Any time |\n"

    assert table_row_texts("Contact", None, text) == [
        "Contact\nWays to contact us\nPhone: 1-800: when Any time."
    ]


def test_the_phone_number_is_found_in_the_contact_table(kb: Kb) -> None:
    _ingest(kb, CONTACT, "account-and-profile.md", "privacy-and-your-data.md")

    hits = kb.kb.search("What's your phone number?", top_k=2)

    assert any(
        hit.heading == "Ways to contact us" and "| Phone: 1-800-555-0142 |" in hit.text
        for hit in hits
    )


def test_rows_are_not_counted_or_returned_as_chunks_of_their_own(kb: Kb) -> None:
    _ingest(kb, CONTACT)
    [document] = kb.kb.list_documents()

    dense = kb.kb.search("phone e-mail live chat opening hours", top_k=50, mode="dense")
    keyword = kb.kb.search("phone e-mail live chat opening hours", top_k=50, mode="keyword")

    assert kb.kb.store.count() == document.chunk_count == len(keyword)
    assert len({(hit.start, hit.end) for hit in dense}) == len(dense)
