"""What each external part of the app is right now: embedded or a server, and whether it answers.

The Home page shows these; nothing here raises — a part that does not answer is reported with a
sentence saying what to do.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

import redis
from qdrant_client import QdrantClient
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from core.db import check_connection, create_db_engine
from core.errors import ObservatoryError
from core.kb.embeddings import EmbeddingStatus
from core.kb.vector_store import describe_unreachable_qdrant
from core.providers import ProviderSet
from core.settings import Settings, redact_url
from observability.store import ExportStats


class Health(StrEnum):
    OK = "ok"
    DOWN = "down"


@dataclass(frozen=True)
class ComponentStatus:
    component: str
    """What the part does: ``Database``, ``Trace store``, ``Vector store``, ``Cache``…"""
    backend: str
    """What runs it: ``SQLite``, ``PostgreSQL 15.4``, ``Qdrant (local mode)``, ``Redis``…"""
    location: str
    """Where it is, with any password hidden."""
    health: Health
    detail: str = ""


def describe_database(engine: Engine, *, component: str = "Database") -> ComponentStatus:
    """The backend of ``engine`` (SQLite, PostgreSQL or TimescaleDB) and whether it answers."""
    location = redact_url(engine.url.render_as_string(hide_password=False))
    setting = "DATABASE_URL" if component == "Database" else "TRACE_STORE_URL"
    try:
        check_connection(engine, setting=setting)
    except ObservatoryError as exc:
        return ComponentStatus(component, engine.dialect.name, location, Health.DOWN, str(exc))
    return ComponentStatus(component, _backend_name(engine), location, Health.OK)


def describe_vector_store(settings: Settings) -> ComponentStatus:
    """Qdrant in local mode (a folder) or a Qdrant server, pinged briefly."""
    url = settings.vectors.qdrant_url
    if url is None:
        return ComponentStatus(
            "Vector store", "Qdrant (local mode)", str(settings.qdrant_path), Health.OK
        )
    key = settings.vectors.qdrant_api_key
    try:
        client = QdrantClient(
            url=url,
            api_key=key.get_secret_value() if key else None,
            timeout=3,
            check_compatibility=False,
        )
        version = client.info().version
        client.close()
    except Exception as exc:  # qdrant-client raises transport errors of several libraries
        detail = describe_unreachable_qdrant(url, type(exc).__name__)
        return ComponentStatus(
            "Vector store", "Qdrant server", redact_url(url), Health.DOWN, detail
        )
    return ComponentStatus("Vector store", f"Qdrant {version}", redact_url(url), Health.OK)


def describe_cache(settings: Settings) -> ComponentStatus:
    """An in-process cache, or Redis pinged briefly."""
    url = settings.cache.redis_url
    if url is None:
        return ComponentStatus("Cache", "In-process", "this Streamlit process", Health.OK)
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        version = str(client.info("server").get("redis_version", ""))
        client.close()
    except redis.RedisError as exc:
        detail = (
            f"REDIS_URL points to {redact_url(url)}, which did not answer ({exc}). The app uses "
            "its in-process cache meanwhile; start Redis or unset REDIS_URL."
        )
        return ComponentStatus("Cache", "Redis", redact_url(url), Health.DOWN, detail)
    return ComponentStatus("Cache", f"Redis {version}".strip(), redact_url(url), Health.OK)


def describe_storage(
    settings: Settings, engine: Engine, *, store_stats: ExportStats | None = None
) -> list[ComponentStatus]:
    """Database, trace store, vector store and cache, in that order. The trace store is
    judged by whether spans are being written (``store_stats``), not only by a ``SELECT 1``."""
    statuses = [describe_database(engine)]
    if settings.tracing.store_url is None:
        trace_store = ComponentStatus(
            "Trace store",
            statuses[0].backend,
            "same database as the app",
            statuses[0].health,
            statuses[0].detail,
        )
    else:
        trace_engine = create_db_engine(settings.trace_store_url, setting="TRACE_STORE_URL")
        trace_store = describe_database(trace_engine, component="Trace store")
        trace_engine.dispose()
    statuses.append(_with_writes(trace_store, store_stats))
    statuses += [describe_vector_store(settings), describe_cache(settings)]
    return statuses


def _with_writes(status: ComponentStatus, stats: ExportStats | None) -> ComponentStatus:
    """The trace store's status with what its writer reports: down while writes fail, and
    a note of spans dropped so far."""
    if stats is None:
        return status
    if stats.failing:
        detail = (
            f"The trace store is not taking spans ({stats.last_error}); {stats.pending:,} wait "
            f"to be written and {stats.dropped:,} were dropped so far. The chat is unaffected; "
            "start the database again and they are written."
        )
        return replace(status, health=Health.DOWN, detail=detail)
    if stats.dropped:
        note = f"{stats.dropped:,} of {stats.ended:,} spans were dropped ({stats.last_error})."
        return replace(status, detail=f"{status.detail} {note}".strip())
    return status


def describe_providers(providers: ProviderSet) -> list[ComponentStatus]:
    """One row per LLM provider: real (a key is set) or answered by the offline simulator."""
    return [
        ComponentStatus(
            f"LLM: {status.label}",
            "Real API" if status.mode == "real" else "Offline simulator",
            status.location,
            Health.OK,
            status.detail,
        )
        for status in providers.describe()
    ]


def describe_embeddings(status: EmbeddingStatus) -> ComponentStatus:
    """The knowledge base's embedding model: shipped with the app, OpenAI's, or simulated."""
    backend = {
        "local": "Local ONNX model",
        "openai": "OpenAI API",
        "simulated": "Offline simulator",
    }[status.mode]
    return ComponentStatus("Embeddings", backend, status.model, Health.OK, status.detail)


def _backend_name(engine: Engine) -> str:
    if engine.dialect.name == "sqlite":
        return "SQLite"
    try:
        with engine.connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar_one()
            timescale = conn.execute(
                text("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'")
            ).scalar_one_or_none()
    except SQLAlchemyError:
        return "PostgreSQL"
    short = str(version).split(" ", 1)[0]
    if timescale:
        return f"TimescaleDB {timescale} on PostgreSQL {short}"
    return f"PostgreSQL {short}"
