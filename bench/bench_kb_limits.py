"""How long the knowledge base takes over large documents, and how fast it refuses oversized ones.

    python -m bench.bench_kb_limits            # 200-page PDF, and the refusals
    python -m bench.bench_kb_limits --pages 400

Ingests a generated PDF of ``--pages`` pages (about 300 words of help-centre prose each) into a
fresh knowledge base (SQLite, local Qdrant, the shipped ONNX model) and prints the time, pages
and chunks, and whether a small upload finishes while the large PDF is being embedded. Then
times the refusals: a 3,000-page PDF (over ``vectors.max_pages``), a Markdown file of 10,000
headings and one of 20 MB (``vectors.max_chunks``), and a flate bomb (a page that inflates to
200 MB).
"""

from __future__ import annotations

import argparse
import io
import tempfile
import threading
import time
import zlib
from pathlib import Path

from reportlab.lib.pagesizes import LETTER
from reportlab.pdfgen import canvas

from core.db import create_db_engine, init_schema
from core.errors import DocumentRejected
from core.kb import KnowledgeBase, create_knowledge_base
from core.settings import AppSettings, Settings

SENTENCES = (
    "Our tents are tested in wind and rain before they leave the warehouse.",
    "Return unused boots within thirty days for a full refund to the original card.",
    "Trail Club members get free express shipping and sixty days to return an item.",
    "Clean a down jacket on a gentle cycle with a technical wash, then tumble dry low.",
    "Stove canisters cannot be shipped by air, so they travel by ground only.",
    "Book a fitting appointment at any store to find the right pack for your back.",
)


def make_pdf(pages: int) -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=LETTER, invariant=1)
    for number in range(pages):
        pdf.setFont("Helvetica-Bold", 16)
        pdf.drawString(72, 740, f"Chapter {number + 1}: outdoor gear care")
        pdf.setFont("Helvetica", 10)
        for line in range(40):
            pdf.drawString(72, 715 - 15 * line, SENTENCES[(number + line) % len(SENTENCES)])
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def flate_bomb(expanded: int = 200_000_000) -> bytes:
    stream = zlib.compress(b" " * expanded, 9)
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        page,
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    body = b"%PDF-1.4\n"
    offsets = []
    for number, content in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n" % number + content + b"\nendobj\n"
    xref = len(body)
    body += b"xref\n0 5\n0000000000 65535 f \n"
    body += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    return body + b"trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref


def timed_refusal(kb: KnowledgeBase, name: str, data: bytes) -> None:
    started = time.perf_counter()
    try:
        kb.ingest(name, data)
    except DocumentRejected as exc:
        print(f"  {name}: refused in {time.perf_counter() - started:.2f} s — {exc}")
        return
    print(f"  {name}: within the limits, indexed in {time.perf_counter() - started:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(app=AppSettings(data_dir=Path(folder), seed_on_start=False))
        engine = create_db_engine(settings.database_url)
        init_schema(engine)
        kb = create_knowledge_base(settings, engine)
        big = make_pdf(args.pages)
        print(f"{args.pages}-page PDF, {len(big) / 2**20:.2f} MB")
        quick_done: list[float] = []

        def quick_upload() -> None:
            time.sleep(2.0)
            started = time.perf_counter()
            kb.ingest("note.md", b"# Note\n\nOpening hours are 9 to 5 every day.\n")
            quick_done.append(time.perf_counter() - started)

        beside = threading.Thread(target=quick_upload)
        started = time.perf_counter()
        beside.start()
        result = kb.ingest("care-guide.pdf", big)
        elapsed = time.perf_counter() - started
        beside.join()
        print(
            f"  ingested in {elapsed:.1f} s: {result.pages} pages, {result.chunks} chunks "
            f"({elapsed / result.pages * 1000:.0f} ms a page)"
        )
        print(f"  a small upload started 2 s in finished in {quick_done[0]:.2f} s meanwhile")
        print("refusals (defaults: 500 pages, 1,500 chunks):")
        timed_refusal(kb, "huge.pdf", make_pdf(3_000))
        headings = "".join(f"# Heading {n}\n\nA line about tents {n}.\n\n" for n in range(10_000))
        timed_refusal(kb, "headings.md", headings.encode())
        timed_refusal(kb, "20mb.md", ((SENTENCES[0] + "\n") * (20 * 2**20 // 74)).encode())
        timed_refusal(kb, "bomb.pdf", flate_bomb())
        kb.close()
        engine.dispose()


if __name__ == "__main__":
    main()
