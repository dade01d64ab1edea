"""What reading a file yields: PDF headings, text in any declared or detectable encoding, and
encrypted PDFs opened or refused."""

from __future__ import annotations

import io
import zipfile

import pytest
from pypdf import PdfReader, PdfWriter

from core.errors import DocumentRejected
from core.kb.decode import decode_text
from core.kb.extract import extract
from seed.documents import PDF_SOURCES_DIR
from seed.pdf import render_markdown_pdf
from tests.core.kb.conftest import make_pdf

TERMS_MD = """# Repair terms

These terms cover repairs of Northwind products bought online or in a store near you.

## 1. Claims

Send two photos of the damage and your order number. We answer within three business days and
tell you whether the repair is free or paid.

## 2. Shipping the product

Pack the product clean and dry. We pay the shipping both ways for accepted claims.
"""
JAPANESE = "返品は商品到着後30日以内に受け付けます。\n返金には5日から7営業日かかります。\n"
CHINESE = "您可以在收到商品后三十天内退货。\n退款需要五到七个工作日。\n"
RUSSIAN = "Вы можете вернуть товар в течение 30 дней.\nВозврат денег занимает 5–7 рабочих дней.\n"


def _read(filename: str, data: bytes) -> tuple[str, tuple[str, ...]]:
    extracted = extract(filename, data, max_mb=20)
    return extracted.pages[0].text, extracted.notes


def test_pdf_pages_carry_the_headings_set_in_larger_type() -> None:
    extracted = extract("terms.pdf", render_markdown_pdf(TERMS_MD, "Repair terms"), max_mb=20)

    [page] = extracted.pages
    assert [h.text for h in page.headings] == [
        "Repair terms",
        "1. Claims",
        "2. Shipping the product",
    ]
    assert all(page.text.startswith(h.text, h.start) for h in page.headings)


def test_seed_pdf_headings_are_its_markdown_sections() -> None:
    source = (PDF_SOURCES_DIR / "shipping-rates-2026.md").read_text(encoding="utf-8")
    sections = [line.lstrip("#").strip() for line in source.splitlines() if line.startswith("#")]

    pages = extract("rates.pdf", render_markdown_pdf(source, "Rates"), max_mb=20).pages

    assert [h.text for page in pages for h in page.headings] == sections


def test_pdf_in_one_font_size_has_no_headings() -> None:
    pages = extract("plain.pdf", make_pdf(["Claims\nSend a photo of the zipper."]), max_mb=20).pages

    assert pages[0].headings == ()


@pytest.mark.parametrize("codec", ["utf-16", "utf-32", "utf-8-sig"])
def test_text_with_a_byte_order_mark_is_read_without_a_note(codec: str) -> None:
    assert _read("notes.txt", JAPANESE.encode(codec)) == (JAPANESE, ())


@pytest.mark.parametrize(
    ("text", "codec", "label"),
    [
        (JAPANESE, "utf-16-le", "UTF-16 little-endian"),
        (JAPANESE, "shift_jis", "Shift-JIS (Japanese)"),
        (CHINESE, "gb18030", "GB18030 (Chinese)"),
    ],
)
def test_text_in_a_detected_encoding_is_read_with_a_note_naming_it(
    text: str, codec: str, label: str
) -> None:
    assert _read("notes.txt", text.encode(codec)) == (
        text,
        (f"notes.txt is not UTF-8; it was read as {label}.",),
    )


def test_cyrillic_windows_text_is_read_as_cyrillic() -> None:
    text, [note] = _read("returns.txt", RUSSIAN.encode("cp1251"))

    assert text == RUSSIAN
    assert note == "returns.txt is not UTF-8; it was read as Windows-1251 (Cyrillic)."


@pytest.mark.parametrize(
    ("data", "sentence"),
    [
        (b"\xff\xfeR\x00e\x00\x00\xd8", "notes.txt starts with a UTF-16 byte-order mark but is not "
         "valid UTF-16; save it as UTF-8 and re-upload."),
        (b"\x00\x01\x02\x03\x04\x05garbage" * 20, "notes.txt looks like a binary file, not text; "
         "upload Markdown, text or PDF."),
        (bytes(range(0x80, 0x100)) * 3, "notes.txt is not UTF-8 and its encoding could not be "
         "recognised; save it as UTF-8 and re-upload."),
    ],
)
def test_undecodable_text_is_refused_in_one_sentence(data: bytes, sentence: str) -> None:
    with pytest.raises(DocumentRejected) as caught:
        extract("notes.txt", data, max_mb=20)

    assert str(caught.value) == sentence


def test_a_zip_renamed_to_text_is_refused_as_binary() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", "<w:document>" + "Returns policy " * 200)

    with pytest.raises(DocumentRejected, match=r"^notes\.txt looks like a binary file"):
        extract("notes.txt", buffer.getvalue(), max_mb=20)


def _encrypted(algorithm: str, user_password: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf(["Price list for tents"]))))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm=algorithm)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-128", "AES-256"])
def test_encrypted_pdf_with_an_empty_user_password_is_read(algorithm: str) -> None:
    extracted = extract("prices.pdf", _encrypted(algorithm, ""), max_mb=20)

    assert extracted.pages[0].text.strip() == "Price list for tents"
    assert extracted.title == "Warranty guide"


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-128", "AES-256"])
def test_encrypted_pdf_with_a_password_is_refused_in_one_sentence(algorithm: str) -> None:
    with pytest.raises(DocumentRejected) as caught:
        extract("prices.pdf", _encrypted(algorithm, "hunter2"), max_mb=20)

    assert str(caught.value) == (
        "prices.pdf is password-protected; remove the password and re-upload."
    )


@pytest.mark.parametrize(
    ("text", "encoding", "label"),
    [
        ("café crème brûlée", "cp1252", "Windows-1252"),
        ("naïve façade — “quoted” text", "cp1252", "Windows-1252"),
        ("Zażółć gęślą jaźń, powiedział pan.", "cp1250", "Windows-1250"),
    ],
)
def test_short_western_text_is_read_as_windows_1252_not_a_sibling(
    text: str, encoding: str, label: str
) -> None:
    decoded = decode_text("menu.txt", text.encode(encoding))

    assert decoded.text == text
    assert decoded.note is not None and label in decoded.note
