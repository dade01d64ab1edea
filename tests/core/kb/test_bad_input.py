"""Every kind of file we refuse gets one sentence naming the file and what to do."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import LETTER
from reportlab.pdfgen import canvas

from core.errors import DocumentRejected
from tests.core.kb.conftest import Kb, KbFactory, make_pdf


def _encrypted_pdf(user_password: str = "hunter2", algorithm: str = "RC4-128") -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf(["Secret price list"]))))
    writer.encrypt(user_password, "owner-secret", algorithm=algorithm)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _scanned_pdf() -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=LETTER)
    pdf.rect(72, 500, 300, 200, fill=1)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("filename", "data", "sentence"),
    [
        ("locked.pdf", _encrypted_pdf(), "locked.pdf is password-protected"),
        ("aes.pdf", _encrypted_pdf(algorithm="AES-256"), "aes.pdf is password-protected"),
        ("scan.pdf", _scanned_pdf(), "scan.pdf has no text layer (it looks scanned)"),
        ("cut.pdf", make_pdf(["Half a file"])[:300], "cut.pdf is damaged"),
        ("fake.pdf", b"PK\x03\x04 a zip file", "fake.pdf is not a PDF file"),
        ("empty.md", b"", "empty.md is empty"),
        ("blank.txt", b"  \n\n\t ", "blank.txt holds only blank space"),
        ("photo.png", b"\x89PNG\r\n", "photo.png is not a supported type"),
        ("binary.txt", b"abc\x00\x01\x02", "binary.txt looks like a binary file"),
    ],
)
def test_bad_file_is_refused_with_one_sentence(
    kb: Kb, filename: str, data: bytes, sentence: str
) -> None:
    with pytest.raises(DocumentRejected) as caught:
        kb.kb.ingest(filename, data)

    message = str(caught.value)
    assert message.startswith(sentence)
    assert message.endswith(".") and message.count(". ") == 0
    assert kb.kb.list_documents() == []


def test_file_over_the_size_limit_is_refused(make_kb: KbFactory) -> None:
    kb = make_kb(max_upload_mb=0.001)

    limit = r"big\.md is 0\.00191 MB, over the 0\.001 MB upload limit"
    with pytest.raises(DocumentRejected, match=limit):
        kb.kb.ingest("big.md", b"# Big\n" + b"tent " * 400)


def test_windows_1252_text_is_read_with_a_note(kb: Kb) -> None:
    data = "Caf\u00e9 opening hours \u2013 9\u201317 every day".encode("cp1252")

    result = kb.kb.ingest("hours.txt", data)

    assert "read as Windows-1252" in result.notes[0]
    [hit] = kb.kb.search("cafe opening hours", top_k=1)
    assert hit.text == "Caf\u00e9 opening hours \u2013 9\u201317 every day"


def test_notepad_unicode_text_is_indexed(kb: Kb) -> None:
    text = "Caf\u00e9 opening hours \u2013 9\u201317 every day\r\n"

    result = kb.kb.ingest("hours.txt", text.encode("utf-16"))

    assert result.notes == ()
    [hit] = kb.kb.search("cafe opening hours", top_k=1)
    assert hit.text == text.strip()


def test_shift_jis_text_is_indexed_with_a_note(kb: Kb) -> None:
    text = "返品は商品到着後30日以内に受け付けます。\n返金には5日から7営業日かかります。\n"

    result = kb.kb.ingest("henpin.txt", text.encode("shift_jis"))

    assert result.notes == ("henpin.txt is not UTF-8; it was read as Shift-JIS (Japanese).",)
    [hit] = kb.kb.search("henpin", top_k=1, mode="keyword")
    assert hit.text == text.strip()


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-256"])
def test_encrypted_pdf_without_a_user_password_is_indexed(kb: Kb, algorithm: str) -> None:
    result = kb.kb.ingest("prices.pdf", _encrypted_pdf("", algorithm))

    assert result.chunks == 1
    [hit] = kb.kb.search("price list", top_k=1)
    assert (hit.filename, hit.page, hit.text) == ("prices.pdf", 1, "Secret price list")


def _flate_bomb_pdf(expanded_bytes: int = 80_000_000) -> bytes:
    """A one-page PDF whose content stream inflates to ``expanded_bytes`` spaces."""
    import zlib

    stream = zlib.compress(b" " * expanded_bytes, 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    body = b"%PDF-1.4\n"
    offsets = []
    for number, content in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n" % number + content + b"\nendobj\n"
    xref = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    body += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    body += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return body


def test_a_flate_bomb_is_told_it_is_too_large_not_damaged(kb: Kb) -> None:
    with pytest.raises(DocumentRejected, match="too large once decompressed"):
        kb.kb.ingest("bomb.pdf", _flate_bomb_pdf())

    assert kb.kb.list_documents() == []


def test_a_pdf_over_the_page_cap_is_refused_with_the_setting_named(make_kb: KbFactory) -> None:
    kb = make_kb(max_pages=3)
    pdf = make_pdf([f"Page {n} of the warranty guide." for n in range(1, 6)])

    with pytest.raises(
        DocumentRejected, match=r"has 5 pages, more than the 3 .*vectors\.max_pages"
    ):
        kb.kb.ingest("warranty.pdf", pdf)


def test_a_document_over_the_chunk_cap_is_refused_with_the_setting_named(
    make_kb: KbFactory,
) -> None:
    kb = make_kb(max_chunks=4, chunk_tokens=60, chunk_overlap=10)
    words = " ".join(f"tents boots jackets stoves {n}" for n in range(30))
    markdown = "".join(f"# Section {n}\n\n{words}\n\n" for n in range(10))

    with pytest.raises(DocumentRejected, match=r"more than 4 chunks.*vectors\.max_chunks"):
        kb.kb.ingest("many.md", markdown.encode())
    assert kb.kb.list_documents() == []
