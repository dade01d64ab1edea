"""``Observatory``: one OpenTelemetry TracerProvider for the process, exporting to the store.

The global provider is set once, to a small proxy that follows the most recently started
``Observatory``. So starting it twice (Streamlit reruns scripts; tests start one each) is
harmless: ``trace.get_tracer(...)`` anywhere, even in modules imported earlier, always reaches
the Observatory that is running, and ``shutdown()`` hands the process back to the previous one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace import Span as SdkSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased, Sampler, TraceIdRatioBased
from opentelemetry.trace import Span
from opentelemetry.util.types import AttributeValue

from observability import attributes as attr
from observability.clock import ClockedTracer
from observability.context import ContextStampProcessor
from observability.decorators import _traced
from observability.instrumentation._common import (
    ContentPolicy,
    Ended,
    Redactor,
    capture_from_env,
    make_span,
)
from observability.instrumentation.finisher import SpanFinisher

if TYPE_CHECKING:
    from observability.store import ExportStats
    from observability.store.rows import SpanRow

logger = logging.getLogger("observability")


class TelemetrySetupError(ValueError):
    """Tracing was configured with a value it cannot use; the message names the setting."""


class _StatsProcessor(Protocol):
    def stats(self) -> ExportStats: ...

    def offer(self, spans: Sequence[ReadableSpan | SpanRow]) -> bool: ...


class ObservatoryTracerProvider(TracerProvider):
    """An SDK TracerProvider that also carries what instrumentations share: the content-capture
    policy, and the ``SpanFinisher`` that makes provider-call spans off the request path. Its
    tracers date spans by a ``simulated_clock`` where one is in force."""

    def __init__(self, *, content_policy: ContentPolicy, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.content_policy = content_policy
        tracer = self.get_tracer("observability.instrumentation")
        self.span_finisher: SpanFinisher[Ended] = SpanFinisher(partial(make_span, tracer))

    def get_tracer(
        self,
        instrumenting_module_name: str,
        instrumenting_library_version: str | None = None,
        schema_url: str | None = None,
        attributes: Mapping[str, AttributeValue] | None = None,
    ) -> trace.Tracer:
        """The SDK's tracer, keeping the times of a ``simulated_clock`` block (see ``clock``)."""
        inner = super().get_tracer(
            instrumenting_module_name, instrumenting_library_version, schema_url, attributes
        )
        return ClockedTracer(inner)

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Make every finished call's span, then flush every processor."""
        drained = self.span_finisher.drain(timeout_millis / 1000.0)
        return super().force_flush(timeout_millis) and drained

    def shutdown(self) -> None:
        """Make every finished call's span, then shut every processor down."""
        self.span_finisher.close()
        super().shutdown()


class Observatory:
    """Tracing for this process: resource, sampler, id stamping, the trace store and OTLP."""

    def __init__(
        self,
        *,
        service_name: str = "support-observatory",
        environment: str = "development",
        store_url: str | None = None,
        capture_content: bool | None = None,
        sample_rate: float = 1.0,
        otlp_endpoint: str | None = None,
        buffer_spans: int = 20_000,
        redactor: Redactor | None = None,
        export_interval_ms: int = 500,
        compress_after_days: int = 7,
        drop_after_days: int = 90,
        text_index: bool = False,
        idle_text_index: bool = True,
    ) -> None:
        """Start tracing and make this the process's running Observatory.

        ``capture_content=None`` follows ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``;
        captured content always passes through ``redactor`` (default: the built-in PII one).
        ``sample_rate`` keeps that share of traces (parent-based, so a trace is never cut).
        ``text_index`` gives a PostgreSQL store a trigram index for text search (faster search,
        slower writing; see ``observability.store.prepare_store``); without it,
        ``idle_text_index`` has the store writer build text indexes while idle (see
        ``observability.store.create_store_processor``).
        """
        if not 0.0 <= sample_rate <= 1.0:
            raise TelemetrySetupError(f"sample_rate must be between 0 and 1, not {sample_rate}.")
        capture = capture_from_env() if capture_content is None else capture_content
        self._provider = ObservatoryTracerProvider(
            content_policy=ContentPolicy(capture=capture, redactor=redactor),
            resource=Resource.create(
                {attr.SERVICE_NAME: service_name, attr.DEPLOYMENT_ENVIRONMENT: environment}
            ),
            sampler=ParentBased(_root_sampler(sample_rate)),
        )
        self._provider.add_span_processor(GuardedProcessor(ContextStampProcessor()))
        self._store: _StatsProcessor | None = None
        if store_url:
            self._store = _create_store(
                store_url,
                buffer_spans=buffer_spans,
                export_interval_ms=export_interval_ms,
                compress_after_days=compress_after_days,
                drop_after_days=drop_after_days,
                text_index=text_index,
                idle_text_index=idle_text_index,
            )
            self._provider.add_span_processor(GuardedProcessor(self._store))  # type: ignore[arg-type]
        if otlp_endpoint:
            self._provider.add_span_processor(GuardedProcessor(_otlp_processor(otlp_endpoint)))
        self._closed = False
        _ACTIVE.push(self)

    @property
    def tracer_provider(self) -> ObservatoryTracerProvider:
        """The SDK provider; hand it to ``instrument_openai`` or add your own processors."""
        return self._provider

    @property
    def content_policy(self) -> ContentPolicy:
        """Whether message content is captured and the redactor it passes through."""
        return self._provider.content_policy

    def store_stats(self) -> ExportStats | None:
        """Spans written, pending and dropped by the trace store, or ``None`` without a store."""
        return self._store.stats() if self._store is not None else None

    def offer_spans(self, spans: Sequence[ReadableSpan | SpanRow]) -> bool:
        """Hand finished spans made elsewhere (an OTLP receiver) to the trace store, as SDK
        spans (which it prices and whose GenAI attributes it promotes like this process's own)
        or as rows made by ``compose_row`` (which did that already); ``False``
        (nothing taken) when they do not all fit in its buffer, or without a store."""
        return self._store.offer(spans) if self._store is not None else False

    @contextmanager
    def span(self, name: str, **attributes: AttributeValue) -> Iterator[Span]:
        """Trace the block as span ``name`` with this Observatory's provider; yields the span."""
        tracer = self._provider.get_tracer("observability")
        with _traced(tracer, name, attributes) as current:
            yield current

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Export every finished span now; ``False`` if that did not finish in time."""
        return self._provider.force_flush(timeout_millis)

    def shutdown(self) -> None:
        """Flush and stop exporting (idempotent); the previous Observatory, if any, takes over."""
        if self._closed:
            return
        self._closed = True
        _ACTIVE.remove(self)
        self._provider.shutdown()


def _root_sampler(sample_rate: float) -> Sampler:
    return ALWAYS_ON if sample_rate >= 1.0 else TraceIdRatioBased(sample_rate)


def _create_store(store_url: str, **options: Any) -> _StatsProcessor:
    from observability.store import create_store_processor

    processor: _StatsProcessor = create_store_processor(store_url, **options)
    return processor


def _otlp_processor(endpoint: str) -> SpanProcessor:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    url = endpoint.rstrip("/")
    if not url.endswith("/v1/traces"):
        url += "/v1/traces"
    return BatchSpanProcessor(OTLPSpanExporter(endpoint=url))


class GuardedProcessor(SpanProcessor):
    """Runs a processor so that its failures are logged and never reach the traced code."""

    def __init__(self, inner: SpanProcessor) -> None:
        self._inner = inner

    def on_start(self, span: SdkSpan, parent_context: Context | None = None) -> None:
        """Pass the starting span on; swallow a failure."""
        try:
            self._inner.on_start(span, parent_context=parent_context)
        except Exception:
            logger.exception("span processor %r failed on start", self._inner)

    def on_end(self, span: ReadableSpan) -> None:
        """Pass the finished span on; swallow a failure."""
        try:
            self._inner.on_end(span)
        except Exception:
            logger.exception("span processor %r failed on end", self._inner)

    def shutdown(self) -> None:
        """Shut the processor down; swallow a failure."""
        try:
            self._inner.shutdown()
        except Exception:
            logger.exception("span processor %r failed to shut down", self._inner)

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Flush the processor; a failure counts as not flushed."""
        try:
            return self._inner.force_flush(timeout_millis)
        except Exception:
            logger.exception("span processor %r failed to flush", self._inner)
            return False


class _FollowingTracer(trace.Tracer):
    """A tracer that starts its spans with the running Observatory's provider."""

    def __init__(self, owner: _ActiveProvider, args: tuple[Any, ...]) -> None:
        self._owner = owner
        self._args = args
        self._cached: tuple[TracerProvider | None, trace.Tracer] = (None, trace.NoOpTracer())

    def _target(self) -> trace.Tracer:
        provider = self._owner.current_provider()
        cached_provider, tracer = self._cached
        if provider is not cached_provider:
            tracer = provider.get_tracer(*self._args) if provider else trace.NoOpTracer()
            self._cached = (provider, tracer)
        return tracer

    def start_span(self, *args: Any, **kwargs: Any) -> Span:
        """Start a span with the running Observatory (a no-op span when none runs)."""
        return self._target().start_span(*args, **kwargs)

    def start_as_current_span(self, *args: Any, **kwargs: Any) -> Any:
        """As ``start_span``, made current for the ``with`` block."""
        return self._target().start_as_current_span(*args, **kwargs)


class _ActiveProvider(trace.TracerProvider):
    """The process's global TracerProvider: follows the most recently started Observatory."""

    def __init__(self) -> None:
        self._running: list[Observatory] = []
        self._lock = threading.Lock()
        self._installed = False

    def current_provider(self) -> ObservatoryTracerProvider | None:
        """The running Observatory's provider, or ``None``."""
        running = self._running
        return running[-1].tracer_provider if running else None

    @property
    def content_policy(self) -> ContentPolicy | None:
        """The running Observatory's content policy (read by instrumentations)."""
        provider = self.current_provider()
        return provider.content_policy if provider else None

    @property
    def span_finisher(self) -> SpanFinisher[Ended] | None:
        """The running Observatory's span finisher (used by instrumentations)."""
        provider = self.current_provider()
        return provider.span_finisher if provider else None

    def get_tracer(
        self,
        instrumenting_module_name: str,
        instrumenting_library_version: str | None = None,
        schema_url: str | None = None,
        attributes: Mapping[str, AttributeValue] | None = None,
    ) -> trace.Tracer:
        """A tracer that always reaches the running Observatory."""
        args = (instrumenting_module_name, instrumenting_library_version, schema_url, attributes)
        return _FollowingTracer(self, args)

    def push(self, observatory: Observatory) -> None:
        """Make ``observatory`` the running one (installing the global provider once)."""
        with self._lock:
            self._running = [*self._running, observatory]
            if not self._installed:
                self._installed = True
                trace.set_tracer_provider(self)
                if trace.get_tracer_provider() is not self:
                    logger.warning("another global TracerProvider is set; ours is not global")

    def remove(self, observatory: Observatory) -> None:
        """Forget ``observatory``; the one started before it runs again."""
        with self._lock:
            self._running = [o for o in self._running if o is not observatory]


_ACTIVE = _ActiveProvider()
