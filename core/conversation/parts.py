"""The collaborators a conversation engine works with, built once per process by the app."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from core.cache import ResponseCache
from core.db.models import utcnow
from core.kb import KnowledgeBase
from core.ratelimit import RateLimiter
from core.router import Router
from core.settings import Settings
from core.tools import ToolRegistry


@dataclass(frozen=True)
class EngineParts:
    """Everything a turn touches. Tests build one with a simulator-backed router."""

    settings: Settings
    db: Engine
    router: Router
    kb: KnowledgeBase
    tools: ToolRegistry
    cache: ResponseCache
    limiter: RateLimiter
    now: Callable[[], datetime] = field(default=utcnow)
