"""An in-memory span exporter that first flushes its provider when read.

An Observatory makes the spans of provider calls on a background thread (``SpanFinisher``), so a
test reads the spans of the calls it made only after the provider has made them all.
"""

from __future__ import annotations

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


class FlushedSpans(InMemorySpanExporter):
    """Keeps every span ``provider`` finishes; reading flushes ``provider`` first."""

    def __init__(self, provider: TracerProvider) -> None:
        super().__init__()
        self._provider = provider
        provider.add_span_processor(SimpleSpanProcessor(self))

    def get_finished_spans(self) -> tuple[ReadableSpan, ...]:
        """Every span finished so far, including calls whose spans were still being made."""
        self._provider.force_flush()
        return super().get_finished_spans()
