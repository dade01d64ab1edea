"""Build every long-lived part of the app from settings, once: the one place they are wired.

Pages get these through ``pages/_shared/resources.py``; tests and benchmarks call
``create_services`` directly with their own settings.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from core.cache import ResponseCache, create_cache
from core.conversation import AgentDesk, ConversationEngine, EngineParts
from core.db import create_db_engine
from core.kb import KnowledgeBase, create_knowledge_base
from core.providers import ProviderSet, create_providers
from core.ratelimit import RateLimiter, create_rate_limiter
from core.router import Router
from core.settings import Settings
from core.simulator import FaultPlan, RequestRecorder
from core.tools import ToolRegistry, create_tool_registry
from observability import Observatory, instrument_anthropic, instrument_openai
from observability.analytics import AnalyticsQueries
from observability.queries import TraceQueries


@dataclass(frozen=True)
class Services:
    """The app's parts, built for one process."""

    settings: Settings
    db: Engine
    observatory: Observatory
    providers: ProviderSet
    router: Router
    kb: KnowledgeBase
    tools: ToolRegistry
    cache: ResponseCache
    limiter: RateLimiter
    faults: FaultPlan
    recorder: RequestRecorder | None
    engine: ConversationEngine
    desk: AgentDesk
    traces: TraceQueries
    analytics: AnalyticsQueries
    trace_store: Engine

    def close(self) -> None:
        """Finish background hand-offs, flush spans and release the vector store, cache and
        rate-limiter connections."""
        self.desk.close()
        self.kb.close()
        self.cache.close()
        self.limiter.close()
        self.observatory.shutdown()


def create_observatory(settings: Settings) -> Observatory:
    """Tracing for this process, exporting to the trace store (and OTLP when configured)."""
    tracing = settings.tracing
    return Observatory(
        service_name=tracing.service_name,
        environment=settings.app.environment,
        store_url=settings.trace_store_url,
        capture_content=tracing.capture_content,
        sample_rate=tracing.sample_rate,
        otlp_endpoint=tracing.otlp_endpoint,
        buffer_spans=tracing.buffer_spans,
        export_interval_ms=tracing.export_interval_ms,
        compress_after_days=tracing.compress_after_days,
        drop_after_days=tracing.drop_after_days,
        text_index=tracing.text_index,
        idle_text_index=tracing.idle_text_index,
    )


def create_services(
    settings: Settings,
    db: Engine,
    *,
    observatory: Observatory | None = None,
    recorder: RequestRecorder | None = None,
) -> Services:
    """Wire providers (instrumented), router, knowledge base, tools, cache and rate limiter."""
    observatory = observatory or create_observatory(settings)
    faults = FaultPlan()
    providers = create_providers(
        settings,
        instrument_openai=lambda client: instrument_openai(
            client, tracer_provider=observatory.tracer_provider
        ),
        instrument_anthropic=lambda client: instrument_anthropic(
            client, tracer_provider=observatory.tracer_provider
        ),
        faults=faults,
        recorder=recorder,
    )
    router = Router(providers.by_name, settings.router)
    kb = create_knowledge_base(settings, db, embedding_client=providers.embedding_client)
    tools = create_tool_registry()
    cache = create_cache(settings)
    limiter = create_rate_limiter(settings, db)
    parts = EngineParts(
        settings=settings,
        db=db,
        router=router,
        kb=kb,
        tools=tools,
        cache=cache,
        limiter=limiter,
    )
    store = trace_store_engine(settings, db)
    return Services(
        settings=settings,
        db=db,
        observatory=observatory,
        providers=providers,
        router=router,
        kb=kb,
        tools=tools,
        cache=cache,
        limiter=limiter,
        faults=faults,
        recorder=recorder,
        engine=ConversationEngine(parts),
        desk=AgentDesk(parts),
        traces=TraceQueries(store),
        analytics=AnalyticsQueries(store),
        trace_store=store,
    )


def trace_store_engine(settings: Settings, db: Engine) -> Engine:
    """The app database when traces live there (the default), else an engine on the store."""
    if settings.trace_store_url == settings.database_url:
        return db
    return create_db_engine(settings.trace_store_url, setting="TRACE_STORE_URL")
