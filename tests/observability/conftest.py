"""Telemetry fixtures: an Observatory with no store and an in-memory span exporter."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from observability import Observatory
from tests.spans import FlushedSpans


@dataclass
class Traced:
    """The running Observatory and the spans it finished."""

    observatory: Observatory
    exporter: InMemorySpanExporter

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def only(self) -> ReadableSpan:
        spans = self.spans()
        assert len(spans) == 1, [s.name for s in spans]
        return spans[0]

    def named(self, name: str) -> ReadableSpan:
        found = [s for s in self.spans() if s.name == name]
        assert len(found) == 1, [s.name for s in self.spans()]
        return found[0]


@pytest.fixture
def traced(monkeypatch: pytest.MonkeyPatch) -> Iterator[Traced]:
    """An Observatory (content capture at its default) whose spans land in memory."""
    monkeypatch.delenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", raising=False)
    observatory = Observatory(service_name="test", environment="test", store_url=None)
    exporter = FlushedSpans(observatory.tracer_provider)
    yield Traced(observatory, exporter)
    observatory.shutdown()
