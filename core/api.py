"""The Analytics API wired from settings, and its command line (API clients).

``app.py`` serves ``create_api_from_settings(...)`` beside the UI; the command manages clients:

python -m core.api clients create "Billing dashboard" --scopes traces:read costs:read
python -m core.api clients list
python -m core.api clients revoke oc_0123456789abcdef
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import secrets
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import Receive, Send
from starlette.types import Scope as AsgiScope

from core.audit import AuditAction, command_line_actor, record_audit
from core.conversation.escalation import ESCALATION_TOOLS
from core.db import create_db_engine, init_schema
from core.db.held import HELD_WRITES
from core.errors import ObservatoryError, SettingsError
from core.settings import Settings, load_settings
from observability import Observatory
from observability.api import (
    ApiConfig,
    ApiServices,
    ClientError,
    ClientRegistry,
    Scope,
    Tier,
    create_api,
    create_api_services,
)
from observability.api.errors import ErrorCode, error_body, request_id_of
from observability.report_queries import ReportQueries
from observability.store import prepare_store

JWT_KEY_FILE = "api_jwt.key"
log = logging.getLogger(__name__)


def api_config(settings: Settings) -> ApiConfig:
    """The API's settings; the token key from ``API__JWT_SECRET`` or the data folder's file."""
    api = settings.api
    return ApiConfig(
        jwt_key=jwt_key(settings),
        export_dir=settings.app.data_dir / "exports",
        token_ttl_s=api.token_ttl_s,
        tier_limits={
            Tier.FREE: api.free_per_minute,
            Tier.STANDARD: api.standard_per_minute,
            Tier.ENTERPRISE: api.enterprise_per_minute,
        },
        redis_url=settings.cache.redis_url,
        ingest_open_on_loopback=api.ingest_open_on_loopback,
        max_ingest_bytes=int(api.max_ingest_mb * 1024 * 1024),
        cost_threshold_usd=api.cost_threshold_usd,
        escalation_tools=tuple(sorted(ESCALATION_TOOLS)),
    )


def jwt_key(settings: Settings) -> bytes:
    """``API__JWT_SECRET``, or a random key made once and kept (mode 600) in the data folder."""
    if settings.api.jwt_secret is not None:
        return settings.api.jwt_secret.get_secret_value().encode()
    path = settings.app.data_dir / JWT_KEY_FILE
    try:
        if path.exists():
            return path.read_bytes().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32).encode()
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(key)
        return key
    except FileExistsError:
        return path.read_bytes().strip()
    except OSError as exc:
        raise SettingsError(
            f"The API token key cannot be kept in {path} ({exc.strerror}); set API__JWT_SECRET "
            "or DATA_DIR to a folder the app can write."
        ) from exc


def create_api_services_from_settings(settings: Settings, store: Engine) -> ApiServices:
    """The API's services over the trace store (where API clients are kept too)."""
    try:
        registry = ClientRegistry(store)
    except SQLAlchemyError as exc:
        raise ObservatoryError(
            f"The trace store did not answer while the API started ({type(exc).__name__}); "
            "check TRACE_STORE_URL or DATABASE_URL."
        ) from exc
    services = create_api_services(api_config(settings), registry, ReportQueries(store))
    export_held_writes(services)
    return services


def export_held_writes(services: ApiServices) -> None:
    """``/metrics`` shows this process's customer messages held while the app database is away
    (the trace store's dropped spans are already there, as ``observatory_trace_store_spans``)."""
    held = HELD_WRITES.counts
    metrics = services.metrics
    metrics.add_gauge("observatory_app_db_held_messages", "gauge", lambda: held().held)
    metrics.add_gauge(
        "observatory_app_db_held_messages_total", "counter", lambda: held().held_total
    )
    metrics.add_gauge(
        "observatory_app_db_held_messages_stored_total",
        "counter",
        lambda: held().stored_after_wait,
    )


class ApiServer:
    """The API inside the app's process: an ASGI app that answers 503 (``not_ready``) until
    ``lifespan`` has built it from settings, then hands every request to it. Ingest's sink,
    ``sink_source`` (the UI's Observatory), is built in ``lifespan`` too, before the server
    answers anyone: built beside the first page run, its imports held the GIL and the first
    visitor waited 2–3 s for the start-up notice. Its spans also feed the websocket's events.
    ``services.events`` is where other parts of the app publish events (the anomaly seam:
    ``EventHub.publish(EventType.ANOMALY, ...)``)."""

    def __init__(self, sink_source: Callable[[], Observatory]) -> None:
        self._sink_source = sink_source
        self._api: FastAPI | None = None
        self._problem = "The API is starting; try again in a few seconds."
        self.services: ApiServices | None = None

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        if self._api is not None:
            await self._api(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1013, "reason": self._problem[:120]})
            return
        body = error_body(request_id_of(scope), ErrorCode.NOT_READY, self._problem)
        await JSONResponse(body, status_code=503, headers={"Retry-After": "5"})(
            scope, receive, send
        )

    @asynccontextmanager
    async def lifespan(self, _app: object) -> AsyncIterator[None]:
        """Build the API at start (off the event loop); close its store engine at the end."""
        store = await anyio.to_thread.run_sync(self._start)
        yield
        if self.services is not None:
            self.services.exports.close()
        if store is not None:
            store.dispose()

    def _start(self) -> Engine | None:
        try:
            settings = load_settings()
            store = create_db_engine(settings.trace_store_url, setting="TRACE_STORE_URL")
            tracing = settings.tracing
            prepare_store(
                store,
                compress_after_days=tracing.compress_after_days,
                drop_after_days=tracing.drop_after_days,
                text_index=tracing.text_index,
            )
            services = create_api_services_from_settings(settings, store)
        except (ObservatoryError, SQLAlchemyError) as exc:
            self._problem = f"The API could not start: {exc}"
            log.error("%s", self._problem)
            return None
        self.services = services
        self._api = create_api(services)
        self._connect_sink()
        return store

    def _connect_sink(self) -> None:
        assert self.services is not None
        readiness = self.services.readiness
        try:
            observatory = self._sink_source()
            observatory.tracer_provider.add_span_processor(self.services.trace_events)
            readiness.sink = observatory
        except Exception as exc:
            readiness.problem = f"Ingest could not start: {exc}"
            log.exception("the API's ingest could not start")


def client_registry(settings: Settings, db: Engine | None = None) -> ClientRegistry:
    """The API clients, kept in the trace store: ``db`` when the traces live in the app
    database (the default), else one engine per store URL for the process."""
    if db is not None and settings.trace_store_url == settings.database_url:
        return ClientRegistry(db)
    return _registry_at(settings.trace_store_url)


@functools.cache
def _registry_at(url: str) -> ClientRegistry:
    return ClientRegistry(create_db_engine(url, setting="TRACE_STORE_URL"))


def main(argv: list[str] | None = None) -> int:
    """``python -m core.api clients create|list|revoke``."""
    parser = argparse.ArgumentParser(prog="python -m core.api", description=__doc__.split("\n")[0])
    groups = parser.add_subparsers(dest="group", required=True)
    clients = groups.add_parser("clients", help="API clients").add_subparsers(
        dest="action", required=True
    )
    create = clients.add_parser("create", help="make a client and print its secret once")
    create.add_argument("name")
    create.add_argument(
        "--scopes", nargs="+", default=[s.value for s in Scope], help="default: every scope"
    )
    create.add_argument("--tier", default=Tier.STANDARD.value, choices=[t.value for t in Tier])
    clients.add_parser("list", help="every client (secrets are never shown again)")
    revoke = clients.add_parser("revoke", help="stop a client's secret and tokens working")
    revoke.add_argument("client_id")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        registry = client_registry(settings)
        if args.action == "create":
            made = registry.create(args.name, args.scopes, args.tier)
            _audit(
                settings, AuditAction.API_CLIENT_CREATED, made.client.client_id,
                f"{made.client.name}: {' '.join(made.client.scopes)}, {made.client.tier}",
            )  # fmt: skip
            print(f"client_id:     {made.client.client_id}")
            print(f"client_secret: {made.secret}")
            print(f"scopes:        {' '.join(made.client.scopes)}   tier: {made.client.tier}")
            print("The secret is shown only now; keep it somewhere safe.")
        elif args.action == "list":
            for client in registry.list():
                state = "revoked" if client.revoked else "active"
                print(
                    f"{client.client_id}  {state:7}  {client.tier:10}  "
                    f"{' '.join(client.scopes)}  {client.name}"
                )
        else:
            gone = registry.revoke(args.client_id)
            _audit(settings, AuditAction.API_CLIENT_REVOKED, gone.client_id, gone.name)
            print(f"{gone.client_id} ({gone.name}) is revoked.")
    except (ObservatoryError, ClientError) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    return 0


def _audit(settings: Settings, action: AuditAction, target: str, detail: str) -> None:
    """Record a change made from the command line in the app database's audit log."""
    db = create_db_engine(settings.database_url)
    try:
        init_schema(db)
        record_audit(db, command_line_actor(), action, target, detail)
    finally:
        db.dispose()


if __name__ == "__main__":
    sys.exit(main())
