"""Around every API request: its id, the rate-limit headers, and its count and latency."""

from __future__ import annotations

import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from observability.api.errors import REQUEST_ID_HEADER
from observability.api.metrics import ApiMetrics


class ApiMiddleware:
    """Gives every request an id (its own ``X-Request-ID`` when it sends one) and echoes it,
    adds the ``X-RateLimit-*`` headers its client's check left, and counts it by route."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(REQUEST_ID_HEADER.lower().encode())
        request_id = given.decode("latin-1")[:100] if given else uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.lower().encode(), request_id.encode()))
                for name, value in (state.get("rate_limit_headers") or {}).items():
                    headers.append((name.lower().encode(), value.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            if scope["type"] == "http":
                route = scope.get("route")
                path = getattr(route, "path", None) or "unmatched"
                self.metrics.observe_request(
                    path, scope["method"], status, time.perf_counter() - started
                )
