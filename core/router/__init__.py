"""Routing over providers: retries with backoff, per-model circuit breakers, fallback, spans.

router = Router(providers.by_name, settings.router)
routed = router.chat(request, ["gpt-4", "claude-3-sonnet", "gpt-3.5-turbo"])
routed.response.text, [a.reason for a in routed.attempts]
"""

from core.router.backoff import backoff_delay
from core.router.breaker import BreakerSnapshot, BreakerState, CircuitBreaker
from core.router.router import Attempt, RoutedResponse, Router, fallback_reason

__all__ = [
    "Attempt",
    "BreakerSnapshot",
    "BreakerState",
    "CircuitBreaker",
    "RoutedResponse",
    "Router",
    "backoff_delay",
    "fallback_reason",
]
