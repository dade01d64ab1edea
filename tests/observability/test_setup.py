"""``Observatory``: resource, sampling, restarts, flushing, the store and OTLP wiring."""

from __future__ import annotations

import sys
import types
from collections.abc import Sequence
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SpanExportResult,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from observability import Observatory, TelemetrySetupError
from tests.spans import FlushedSpans

ENGINE_TRACER = trace.get_tracer("support_observatory.engine")


def started(**options: Any) -> tuple[Observatory, InMemorySpanExporter]:
    observatory = Observatory(service_name="svc", environment="ci", **options)
    return observatory, FlushedSpans(observatory.tracer_provider)


def test_spans_carry_service_and_environment() -> None:
    observatory, exporter = started()
    try:
        ENGINE_TRACER.start_span("turn").end()
    finally:
        observatory.shutdown()

    resource = exporter.get_finished_spans()[0].resource.attributes
    assert resource["service.name"] == "svc"
    assert resource["deployment.environment.name"] == "ci"


def test_starting_twice_is_harmless_and_shutdown_hands_back() -> None:
    first, first_spans = started()
    second, second_spans = started()
    try:
        ENGINE_TRACER.start_span("while both run").end()
        second.shutdown()
        ENGINE_TRACER.start_span("after second stops").end()
        second.shutdown()
    finally:
        first.shutdown()
    ENGINE_TRACER.start_span("after both stop").end()

    assert [s.name for s in second_spans.get_finished_spans()] == ["while both run"]
    assert [s.name for s in first_spans.get_finished_spans()] == ["after second stops"]


def test_shutdown_flushes_batched_spans() -> None:
    observatory = Observatory(service_name="svc", environment="ci")
    exporter = InMemorySpanExporter()
    batch = BatchSpanProcessor(exporter, schedule_delay_millis=60_000)
    observatory.tracer_provider.add_span_processor(batch)
    with observatory.span("queued"):
        pass
    assert exporter.get_finished_spans() == ()

    observatory.shutdown()

    assert [s.name for s in exporter.get_finished_spans()] == ["queued"]


def test_sample_rate_zero_records_nothing_and_bad_rate_is_refused() -> None:
    observatory, exporter = started(sample_rate=0.0)
    try:
        with observatory.span("dropped"):
            ENGINE_TRACER.start_span("child").end()
    finally:
        observatory.shutdown()

    assert exporter.get_finished_spans() == ()
    with pytest.raises(TelemetrySetupError, match="sample_rate"):
        Observatory(sample_rate=1.5)


class FakeStore:
    def __init__(self) -> None:
        self.ended: list[str] = []

    def on_start(self, span: Any, parent_context: Any = None) -> None: ...

    def on_end(self, span: ReadableSpan) -> None:
        self.ended.append(span.name)

    def shutdown(self) -> None: ...

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True

    def stats(self) -> dict[str, int]:
        return {"written": len(self.ended)}


def test_store_url_wires_the_store_processor(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, dict[str, Any]]] = []
    store = FakeStore()

    def create_store_processor(url: str, **options: Any) -> FakeStore:
        calls.append((url, options))
        return store

    module = types.ModuleType("observability.store")
    module.create_store_processor = create_store_processor  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "observability.store", module)

    observatory = Observatory(store_url="sqlite:///t.db", buffer_spans=10, export_interval_ms=50)
    try:
        with observatory.span("stored"):
            pass
        stats = observatory.store_stats()
    finally:
        observatory.shutdown()

    assert calls[0][0] == "sqlite:///t.db"
    assert calls[0][1]["buffer_spans"] == 10
    assert calls[0][1]["export_interval_ms"] == 50
    assert stats == {"written": 1}


def test_store_stats_is_none_without_a_store() -> None:
    observatory = Observatory(store_url=None)
    observatory.shutdown()

    assert observatory.store_stats() is None


def test_otlp_endpoint_exports_spans(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[tuple[str, list[str]]] = []

    def export(self: OTLPSpanExporter, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        sent.append((self._endpoint, [s.name for s in spans]))
        return SpanExportResult.SUCCESS

    monkeypatch.setattr(OTLPSpanExporter, "export", export)
    observatory = Observatory(otlp_endpoint="http://127.0.0.1:4318")
    with observatory.span("to collector"):
        pass
    observatory.shutdown()

    assert sent == [("http://127.0.0.1:4318/v1/traces", ["to collector"])]


def test_broken_store_processor_never_reaches_traced_code(monkeypatch: pytest.MonkeyPatch) -> None:
    class BrokenStore(FakeStore):
        def on_end(self, span: ReadableSpan) -> None:
            raise RuntimeError("disk full")

    module = types.ModuleType("observability.store")
    module.create_store_processor = lambda url, **_: BrokenStore()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "observability.store", module)
    observatory = Observatory(store_url="sqlite:///t.db")
    try:
        with observatory.span("survives"):
            result = "answered"
    finally:
        observatory.shutdown()

    assert result == "answered"
