"""``/ws``: live events over a websocket.

Authenticate with ``?token=<bearer token>`` or, as the first message,
``{"type": "auth", "token": "..."}``; then ``{"type": "subscribe", "events": ["trace_created",
"cost_threshold", "anomaly"], "cost_threshold_usd": 0.05}`` (answered by ``subscribed``). Events
arrive as ``{"type", "at", "data"}``. ``trace_created`` needs ``traces:read``,
``cost_threshold`` ``costs:read`` and ``anomaly`` ``metrics:read``. A client that falls behind
is closed with code 1008 ("fell behind").
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from observability.api.auth import Principal
from observability.api.config import Scope
from observability.api.errors import ApiError
from observability.api.events import EventType, Subscription
from observability.api.services import ApiServices

AUTH_TIMEOUT_S = 10.0
CLOSE_UNAUTHENTICATED = 1008
CLOSE_TOO_SLOW = 1008
_NEEDS = {
    EventType.TRACE_CREATED: Scope.TRACES_READ,
    EventType.COST_THRESHOLD: Scope.COSTS_READ,
    EventType.ANOMALY: Scope.METRICS_READ,
}


def ws_router(services: ApiServices) -> APIRouter:
    """The event websocket."""
    router = APIRouter()

    @router.websocket("/ws")
    async def events(websocket: WebSocket, token: str | None = None) -> None:
        await websocket.accept()
        principal = await _authenticate(services, websocket, token)
        if principal is None:
            return
        subscription = services.events.subscribe()
        subscription.cost_threshold_usd = services.config.cost_threshold_usd
        pump = asyncio.create_task(_pump(websocket, subscription))
        try:
            while not subscription.dropped.is_set():
                message = await websocket.receive_json()
                await subscription.queue.put(_handle(principal, subscription, message, services))
        except (WebSocketDisconnect, ValueError):
            pass
        finally:
            services.events.unsubscribe(subscription)
            pump.cancel()
            with contextlib.suppress(BaseException):
                await pump

    return router


async def _authenticate(
    services: ApiServices, websocket: WebSocket, token: str | None
) -> Principal | None:
    try:
        if token is None:
            first = await asyncio.wait_for(websocket.receive_json(), AUTH_TIMEOUT_S)
            token = str(first.get("token", "")) if isinstance(first, dict) else ""
        principal = services.issuer.check(token)
    except (ApiError, TimeoutError, ValueError, WebSocketDisconnect) as exc:
        reason = exc.message if isinstance(exc, ApiError) else "send a token first"
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.send_json({"type": "error", "message": reason})
            await websocket.close(CLOSE_UNAUTHENTICATED, reason[:120])
        return None
    await websocket.send_json({"type": "authenticated", "client_id": principal.client_id})
    return principal


def _handle(
    principal: Principal, subscription: Subscription, message: Any, services: ApiServices
) -> dict[str, Any]:
    if not isinstance(message, dict) or message.get("type") != "subscribe":
        return {"type": "error", "message": 'Send {"type": "subscribe", "events": [...]}.'}
    wanted: set[EventType] = set()
    for name in message.get("events") or []:
        try:
            kind = EventType(name)
        except ValueError:
            known = ", ".join(e.value for e in EventType)
            return {"type": "error", "message": f"{name!r} is not an event; use some of {known}."}
        if _NEEDS[kind] not in principal.scopes:
            return {"type": "error", "message": f"{kind} needs the {_NEEDS[kind]} scope."}
        wanted.add(kind)
    threshold = message.get("cost_threshold_usd")
    if isinstance(threshold, int | float) and threshold >= 0:
        subscription.cost_threshold_usd = float(threshold)
    subscription.events = wanted
    return {
        "type": "subscribed",
        "events": sorted(wanted),
        "cost_threshold_usd": subscription.cost_threshold_usd,
    }


async def _pump(websocket: WebSocket, subscription: Subscription) -> None:
    """Send queued events; close the socket once the hub has dropped this client."""
    dropped = asyncio.create_task(subscription.dropped.wait())
    getting: asyncio.Task[dict[str, Any]] | None = None
    try:
        while True:
            getting = asyncio.create_task(subscription.queue.get())
            done, _ = await asyncio.wait({getting, dropped}, return_when=asyncio.FIRST_COMPLETED)
            if dropped in done:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(websocket.close(CLOSE_TOO_SLOW, "fell behind"), 1.0)
                return
            await websocket.send_json(getting.result())
    finally:
        dropped.cancel()
        if getting is not None:
            getting.cancel()
