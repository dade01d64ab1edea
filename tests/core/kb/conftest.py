"""A knowledge base on a temporary SQLite file and local Qdrant folder, spans kept in memory."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from reportlab.lib.pagesizes import LETTER
from reportlab.pdfgen import canvas

from core.db import create_db_engine, init_schema
from core.kb import KnowledgeBase, create_knowledge_base
from core.settings import AppSettings, Settings, TracingSettings, VectorSettings

RETURNS_MD = """# Returns policy

You can return most items within 30 days of delivery; Trail Club members get 60 days.
Items must be unused and in their original packaging.

## Refund timing

Refunds are issued to the original payment method 5–7 business days after the item reaches
our warehouse. You will get an email when the refund is on its way.

## Exchanges

Exchanging a jacket or boots for another size is free: start the exchange from your order page.
"""

SHIPPING_MD = """# Shipping

Standard shipping is free on orders over $75. We ship with UPS, FedEx, USPS and DHL.
Express delivery takes one to two business days and costs $19.
"""


@dataclass
class Kb:
    kb: KnowledgeBase
    spans: InMemorySpanExporter

    def finished(self, prefix: str) -> list[ReadableSpan]:
        return [s for s in self.spans.get_finished_spans() if s.name.startswith(prefix)]


KbFactory = Callable[..., Kb]


@pytest.fixture
def make_kb(tmp_path: Path) -> Iterator[KbFactory]:
    """Builds knowledge bases over one data folder; closes them after the test."""
    built: list[KnowledgeBase] = []
    engine = create_db_engine(f"sqlite:///{tmp_path / 'kb.db'}")
    init_schema(engine)

    def build(capture_content: bool = False, **vectors: object) -> Kb:
        settings = Settings(
            app=AppSettings(data_dir=tmp_path / "data", seed_on_start=False),
            vectors=VectorSettings(**vectors),  # type: ignore[arg-type]
            tracing=TracingSettings(capture_content=capture_content),
        )
        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        kb = create_knowledge_base(settings, engine, tracer_provider=provider)
        built.append(kb)
        return Kb(kb, exporter)

    yield build
    for kb in built:
        kb.close()
    engine.dispose()


@pytest.fixture
def kb(make_kb: KbFactory) -> Kb:
    return make_kb()


def make_pdf(pages: list[str], *, title: str = "Warranty guide") -> bytes:
    """A PDF with one page per string (lines split on newlines)."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=LETTER, invariant=1)
    pdf.setTitle(title)
    for text in pages:
        y = 720
        for line in text.splitlines():
            pdf.drawString(72, y, line)
            y -= 16
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()
