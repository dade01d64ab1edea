"""``create_api``: the FastAPI application, and ``api_routes`` to serve it inside another ASGI
app (Streamlit's ``st.App``) on the paths it owns."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.datastructures import URLPath
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import ASGIApp, Receive, Scope, Send

from observability.api.analytics import analytics_router
from observability.api.errors import install_error_handlers
from observability.api.export_routes import exports_router
from observability.api.ingest import ingest_router
from observability.api.middleware import ApiMiddleware
from observability.api.ops import ops_router
from observability.api.services import ApiServices
from observability.api.traces import traces_router
from observability.api.ws import ws_router

API_PATHS = ("/api", "/v1/traces", "/ws", "/health", "/metrics")
"""Every path the API answers (a path is its own and everything under it)."""


def create_api(services: ApiServices) -> FastAPI:
    """The Analytics API and OTLP receiver over ``services``; its OpenAPI document is at
    ``/api/openapi.json``, shown at ``/api/docs``."""
    api = FastAPI(
        title="Support Observatory Analytics API",
        version="1.0.0",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
        middleware=[Middleware(ApiMiddleware, metrics=services.metrics)],
        # FastAPI's own OpenTelemetry spans would land in the trace store as support traces.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    install_error_handlers(api)
    api.include_router(ops_router(services))
    api.include_router(traces_router(services))
    api.include_router(ingest_router(services))
    api.include_router(analytics_router(services))
    api.include_router(exports_router(services, services.exports))
    api.include_router(ws_router(services))
    return api


class OwnedPaths(BaseRoute):
    """A route that hands the API's own paths (``API_PATHS``) to ``app`` unchanged."""

    def __init__(self, app: ASGIApp, prefixes: tuple[str, ...] = API_PATHS) -> None:
        self.app = app
        self.prefixes = prefixes

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """Full match for an HTTP or websocket request on one of the prefixes."""
        if scope["type"] not in ("http", "websocket"):
            return Match.NONE, {}
        path: str = scope["path"]
        for prefix in self.prefixes:
            if path == prefix or path.startswith(prefix + "/"):
                return Match.FULL, {}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request to the API."""
        await self.app(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        """The API's URLs are not named here."""
        raise NoMatchFound(name, path_params)


def api_routes(api: ASGIApp) -> list[BaseRoute]:
    """The routes to give ``st.App(routes=...)`` so that it serves ``api`` on its paths."""
    return [OwnedPaths(api)]
