"""What the API is told by the app that serves it (``core`` builds it from settings)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path


class Scope(StrEnum):
    """What a client may do; a token carries the scopes its client was given."""

    TRACES_READ = "traces:read"
    METRICS_READ = "metrics:read"
    COSTS_READ = "costs:read"
    EXPORTS_WRITE = "exports:write"
    INGEST_WRITE = "ingest:write"


class Tier(StrEnum):
    """A client's rate-limit tier (requests per minute in ``ApiConfig.tier_limits``)."""

    FREE = "free"
    STANDARD = "standard"
    ENTERPRISE = "enterprise"


DEFAULT_TIER_LIMITS: dict[Tier, int] = {Tier.FREE: 60, Tier.STANDARD: 600, Tier.ENTERPRISE: 6_000}


@dataclass(frozen=True)
class ApiConfig:
    """The API's settings. ``jwt_key`` signs tokens (HS256)."""

    jwt_key: bytes
    export_dir: Path
    token_ttl_s: int = 900
    tier_limits: dict[Tier, int] = field(default_factory=lambda: dict(DEFAULT_TIER_LIMITS))
    """Requests per minute per client, by tier."""
    redis_url: str | None = None
    """Rate-limit counters in Redis (shared by every process) instead of in this process."""
    ingest_open_on_loopback: bool = False
    """``POST /v1/traces`` without a token, from 127.0.0.1 or ::1 only."""
    max_ingest_bytes: int = 8 * 1024 * 1024
    """The largest OTLP body taken, after gzip."""
    cost_threshold_usd: float = 0.10
    """A trace costing at least this sends ``cost_threshold`` to websocket subscribers."""
    escalation_tools: tuple[str, ...] = ()
    """Tools whose call hands a conversation to a human (quality's escalation rate)."""
    ws_queue_events: int = 1_000
    """Events a websocket client may fall behind by before it is dropped."""
