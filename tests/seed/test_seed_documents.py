import io

import pypdf

from seed.documents import iter_seed_documents
from seed.pdf import render_markdown_pdf


def test_the_knowledge_base_has_articles_and_pdfs() -> None:
    documents = list(iter_seed_documents())

    articles = [d for d in documents if d.filename.endswith(".md")]
    pdfs = [d for d in documents if d.filename.endswith(".pdf")]
    assert len(articles) >= 15
    assert len(pdfs) >= 2
    assert all(d.title and not d.title.endswith(".md") for d in documents)


def test_seed_pdfs_are_identical_on_every_run() -> None:
    first = {d.filename: d.data for d in iter_seed_documents() if d.filename.endswith(".pdf")}
    second = {d.filename: d.data for d in iter_seed_documents() if d.filename.endswith(".pdf")}

    assert first == second


def test_rendered_pdf_keeps_headings_lists_and_tables_as_text() -> None:
    markdown = (
        "# Shipping rates\n\nStandard shipping is **free** over $75.\n\n## Zones\n\n"
        "- Zone 1: West coast\n1. Pack the item\n\n"
        "| Service | Price |\n|---|---|\n| Ground | $6.95 |\n"
    )

    reader = pypdf.PdfReader(io.BytesIO(render_markdown_pdf(markdown, "Shipping rates")))

    text = reader.pages[0].extract_text()
    for expected in (
        "Shipping rates",
        "free over $75",
        "Zone 1: West coast",
        "Pack the item",
        "$6.95",
    ):
        assert expected in text
    assert reader.metadata is not None and reader.metadata.title == "Shipping rates"
