"""``GET /health``, ``GET /metrics`` and ``POST /api/v1/auth/token``."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from observability.api.errors import ApiError, ErrorCode
from observability.api.schemas import ERRORS, Health, TokenAnswer, TokenRequest
from observability.api.services import ApiServices
from observability.queries import TraceStoreUnavailable


def ops_router(services: ApiServices) -> APIRouter:
    """Health, metrics and the token exchange."""
    router = APIRouter()

    @router.get("/health", tags=["operations"])
    def health() -> Health:
        """Up or not: the store answers a query, and ingest has its way into the store."""
        try:
            services.queries.latest_trace_start()
            store = "ok"
        except TraceStoreUnavailable:
            store = "unavailable"
        ready = services.readiness
        stats = services.store_stats()
        ingest = "ok" if ready.sink else ("unavailable" if ready.problem else "starting")
        if store == "ok" and ingest == "ok":
            status = "ok"
        else:
            status = "starting" if ingest == "starting" and store == "ok" else "degraded"
        return Health(
            status=status,
            store=store,
            ingest=ingest,
            spans_pending=stats.pending if stats else None,
            spans_dropped=stats.dropped if stats else None,
            problem=ready.problem,
        )

    @router.get("/metrics", response_class=PlainTextResponse, tags=["operations"])
    def metrics() -> PlainTextResponse:
        """Requests, latencies, spans ingested and dropped, and the store's queue depth, in
        the Prometheus text format."""
        return PlainTextResponse(
            services.metrics.render(services.store_stats),
            media_type="text/plain; version=0.0.4",
        )

    @router.post(
        "/api/v1/auth/token",
        tags=["auth"],
        responses={401: ERRORS[401], 422: ERRORS[422]},
    )
    def token(body: TokenRequest) -> TokenAnswer:
        """Exchange a client's id and secret for a bearer token."""
        client = services.clients.verify(body.client_id, body.client_secret)
        if client is None:
            raise ApiError(
                401,
                ErrorCode.INVALID_CLIENT,
                "The client id and secret do not match an active API client.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        issued = services.issuer.issue(client.client_id, client.scopes, client.tier)
        return TokenAnswer(
            access_token=issued,
            expires_in=services.issuer.ttl_s,
            scope=" ".join(client.scopes),
        )

    return router
