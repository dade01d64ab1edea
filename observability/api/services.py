"""What the routes work with, built once by the app that serves the API."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from observability.api.auth import TokenIssuer
from observability.api.clients import ClientRegistry
from observability.api.config import ApiConfig
from observability.api.events import EventHub, TraceEvents
from observability.api.exports import ExportJobs
from observability.api.metrics import ApiMetrics
from observability.api.ratelimit import ClientRateLimits
from observability.pricing import price_span_attributes
from observability.report_queries import ReportQueries
from observability.store import ExportStats
from observability.store.rows import SpanRow


class SpanSink(Protocol):
    """Where ingested spans go: the running ``Observatory``'s trace store."""

    def offer_spans(self, spans: Sequence[SpanRow]) -> bool:
        """Take every span (as its row), or none when they do not all fit (the buffer is
        full)."""
        ...

    def store_stats(self) -> ExportStats | None:
        """Spans written, pending and dropped."""
        ...


@dataclass
class Readiness:
    """Whether the spans' way into the store is up; until it is, ingest answers 503."""

    sink: SpanSink | None = None
    problem: str | None = None
    """Why it could not start (one sentence), if it failed."""


@dataclass
class ApiServices:
    """The API's collaborators."""

    config: ApiConfig
    clients: ClientRegistry
    queries: ReportQueries
    issuer: TokenIssuer
    limits: ClientRateLimits
    exports: ExportJobs
    events: EventHub
    trace_events: TraceEvents
    metrics: ApiMetrics
    readiness: Readiness = field(default_factory=Readiness)

    def store_stats(self) -> ExportStats | None:
        """The store processor's counts, once it is up."""
        sink = self.readiness.sink
        return sink.store_stats() if sink is not None else None


def create_api_services(
    config: ApiConfig, clients: ClientRegistry, queries: ReportQueries
) -> ApiServices:
    """Services for ``config``: tokens checked against the registry's revocations."""
    issuer = TokenIssuer(
        config.jwt_key,
        config.token_ttl_s,
        is_revoked=lambda client_id: _revoked(clients, client_id),
    )
    metrics = ApiMetrics()
    hub = EventHub(queue_events=config.ws_queue_events, on_drop=metrics.count_ws_dropped)
    return ApiServices(
        config=config,
        metrics=metrics,
        events=hub,
        trace_events=TraceEvents(hub, price=_price),
        clients=clients,
        queries=queries,
        issuer=issuer,
        limits=ClientRateLimits(config.tier_limits, config.redis_url),
        exports=ExportJobs(queries.engine, config.export_dir),
    )


def _price(attributes: Mapping[str, Any]) -> float | None:
    price = price_span_attributes(attributes)
    return float(price.cost_usd) if price.cost_usd is not None else None


def _revoked(clients: ClientRegistry, client_id: str) -> bool:
    found = clients.get(client_id)
    return found is None or found.revoked
