"""The Knowledge Base page through AppTest: upload a PDF, see it listed, find it, delete it.

The page gets a knowledge base of its own on the test's data folder (through the page's one
resource function), so these tests do not need the rest of the app's services.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.db import create_db_engine, init_schema
from core.kb import KnowledgeBase, create_knowledge_base
from core.providers import create_providers
from core.settings import VectorSettings, load_settings
from pages._shared import resources
from tests.core.kb.conftest import RETURNS_MD, make_pdf

ROOT = Path(__file__).resolve().parents[2]

PAGE = str(ROOT / "pages" / "knowledge_base.py")
TIMEOUT_S = 60
WARRANTY = make_pdf(
    [
        "Warranty guide\nEvery tent and backpack carries a two-year warranty.",
        "Claims\nSend a photo of the broken zipper to our team; we repair it in ten days.",
    ]
)


@pytest.fixture
def page_kb(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[KnowledgeBase]:
    settings = load_settings()
    engine = create_db_engine(settings.database_url)
    init_schema(engine)
    kb = create_knowledge_base(settings, engine)
    monkeypatch.setattr(resources, "get_knowledge_base", lambda: kb)
    yield kb
    kb.close()
    engine.dispose()


def _page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT_S)
    at.session_state["role"] = "agent"  # the page checks it is for staff
    return at.run()


def _upload(at: AppTest, *files: tuple[str, bytes, str]) -> AppTest:
    at.file_uploader(key="kb_files").set_value(list(files))
    return at.button[0].click().run()


def test_uploaded_pdf_is_listed_and_found_with_its_page(page_kb: KnowledgeBase) -> None:
    at = _page()
    assert at.info[0].value.startswith("No documents yet")

    at = _upload(at, ("warranty.pdf", WARRANTY, "application/pdf"))

    assert not at.exception
    assert at.success[0].value == "warranty.pdf: 2 page(s), 2 chunk(s) indexed."
    table = at.dataframe[0].value
    assert table["file"].tolist() == ["warranty.pdf"]
    assert table["pages"].tolist() == [2]
    at.text_input(key="kb_query").input("my zipper broke, can you repair it?").run()
    header = at.markdown[[m.value.startswith("**[1]") for m in at.markdown].index(True)]
    assert "Warranty guide — p.2" in header.value
    assert any(":orange-background[zipper]" in m.value for m in at.markdown)
    assert {m.label for m in at.metric} >= {"Dense (cosine)", "Keyword", "Score (hybrid)"}


def test_bad_file_shows_one_sentence_and_good_one_still_indexes(page_kb: KnowledgeBase) -> None:
    at = _page()

    at = _upload(
        at,
        ("empty.txt", b"", "text/plain"),
        ("warranty.pdf", WARRANTY, "application/pdf"),
    )

    assert [e.value for e in at.error] == ["empty.txt is empty; there is nothing to index."]
    assert at.dataframe[0].value["file"].tolist() == ["warranty.pdf"]


def test_delete_asks_first_and_cancel_keeps_the_document(page_kb: KnowledgeBase) -> None:
    at = _upload(_page(), ("warranty.pdf", WARRANTY, "application/pdf"))

    at.button(key="kb_delete").click().run()

    assert at.warning[0].value.startswith("Delete Warranty guide (warranty.pdf, #1)?")
    at.button(key="kb_delete_cancel").click().run()
    assert not at.warning
    assert at.dataframe[0].value["file"].tolist() == ["warranty.pdf"]


def test_delete_removes_the_document_from_list_and_search(page_kb: KnowledgeBase) -> None:
    at = _upload(_page(), ("warranty.pdf", WARRANTY, "application/pdf"))

    at.button(key="kb_delete").click().run()
    at.button(key="kb_delete_confirm").click().run()

    assert at.success[0].value == "Deleted Warranty guide (warranty.pdf, #1) and its chunks."
    assert not at.dataframe
    assert at.info[0].value.startswith("No documents yet")
    at.text_input(key="kb_query").input("zipper repair").run()
    assert any(i.value.startswith("Nothing relevant found") for i in at.info)


def test_reindex_all_reports_how_many_documents(page_kb: KnowledgeBase) -> None:
    at = _upload(_page(), ("warranty.pdf", WARRANTY, "application/pdf"))

    at.button(key="kb_reindex_all").click().run()

    assert [t.value for t in at.toast] == ["Re-indexed 1 document(s)."]
    assert at.dataframe[0].value["status"].tolist() == ["indexed"]


def test_failed_reindex_says_the_previous_index_is_kept(page_kb: KnowledgeBase) -> None:
    at = _upload(_page(), ("warranty.pdf", WARRANTY, "application/pdf"))
    page_kb.settings = page_kb.settings.model_copy(update={"max_upload_mb": 0.0001})

    at.button(key="kb_reindex").click().run()

    assert [t.value for t in at.toast] == ["Re-indexed 0 document(s)."]
    [warning] = at.warning
    assert warning.value.startswith(
        "Re-indexing failed, so the previous index is kept: warranty.pdf is"
    )
    assert at.dataframe[0].value["status"].tolist() == ["indexed"]


def test_uploader_offers_what_ingest_accepts_within_the_app_limit(page_kb: KnowledgeBase) -> None:
    uploader = _page().file_uploader(key="kb_files").proto

    suffixes = sorted(t for t in uploader.type if t.startswith("."))
    assert suffixes == [".markdown", ".md", ".pdf", ".text", ".txt"]
    assert uploader.max_upload_size_mb == 20


def test_server_upload_cap_is_the_app_limit() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))

    assert config["server"]["maxUploadSize"] == VectorSettings().max_upload_mb


def test_markdown_chunk_is_shown_formatted_with_highlights(page_kb: KnowledgeBase) -> None:
    article = RETURNS_MD.replace("Trail Club members", "**Trail Club** members pay $0 and")
    at = _upload(_page(), ("returns.md", article.encode(), "text/markdown"))

    at.text_input(key="kb_query").input("trail club return window").run()

    chunk = next(m.value for m in at.markdown if ":orange-background[Club]" in m.value)
    assert "**:orange-background[Trail] :orange-background[Club]**" in chunk
    assert chunk.startswith("**:orange-background[Returns] policy**\n")
    assert "\\$0" in chunk


def test_simulated_openai_embeddings_are_flagged(
    app_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VECTORS__EMBEDDING_MODEL", "text-embedding-3-small")
    settings = load_settings()
    engine = create_db_engine(settings.database_url)
    init_schema(engine)
    client = create_providers(settings).embedding_client
    kb = create_knowledge_base(settings, engine, embedding_client=client)
    monkeypatch.setattr(resources, "get_knowledge_base", lambda: kb)
    try:
        at = _page()
    finally:
        kb.close()
        engine.dispose()

    assert "embeddings: text-embedding-3-small (simulated)" in at.caption[0].value
    assert at.warning[0].value.startswith("text-embedding-3-small is simulated:")
