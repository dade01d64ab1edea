"""Provider errors. Adapters map SDK exceptions to these once; the router catches only these.

ProviderError (core.errors)
├── RateLimited            429; ``retry_after_s`` from the Retry-After header when given
├── ProviderUnavailable    5xx, connection refused or reset: worth retrying or falling back
├── ProviderTimeout        no answer within the request timeout
├── BadRequest             4xx that is the caller's fault; never retried, never trips a breaker
├── AuthenticationFailed   401/403: the key is wrong or lacks access; not retried
├── MalformedResponse      the provider answered something we cannot read
├── AllProvidersFailed     every model of a route failed; ``attempts`` says how
└── UnknownModel           the model is not in the catalogue or has no deployment
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import suppress
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from core.errors import ProviderError


class RateLimited(ProviderError):
    """The provider asked us to slow down (HTTP 429)."""

    def __init__(self, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class ProviderUnavailable(ProviderError):
    """The provider failed on its side or could not be reached."""


class ProviderTimeout(ProviderError):
    """The provider did not answer within the request timeout."""


class BadRequest(ProviderError):
    """The request itself was refused (a 4xx that is the caller's fault)."""


class AuthenticationFailed(ProviderError):
    """The API key was refused or lacks access to the model."""


class MalformedResponse(ProviderError):
    """The provider's answer could not be read."""


class UnknownModel(ProviderError):
    """The model is not in the catalogue, or no provider serves it."""


class AllProvidersFailed(ProviderError):
    """Every model of the route failed; ``attempts`` holds one record per attempt."""

    def __init__(self, message: str, *, attempts: Sequence[Any] = ()) -> None:
        super().__init__(message)
        self.attempts = list(attempts)


def parse_retry_after(headers: Mapping[str, str], *, now: datetime | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date)."""
    lowered = {key.lower(): value for key, value in headers.items()}
    millis = lowered.get("retry-after-ms")
    if millis is not None:
        with suppress(ValueError):
            return max(0.0, float(millis) / 1000)
    value = lowered.get("retry-after")
    if value is None:
        return None
    with suppress(ValueError):
        return max(0.0, float(value))
    with suppress(TypeError, ValueError):
        when = parsedate_to_datetime(value)
        return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
    return None


def error_for_status(
    status: int, label: str, detail: str, headers: Mapping[str, str]
) -> ProviderError:
    """Our error for an HTTP error answer; ``label`` names the provider and model in the text."""
    if status == 429:
        retry_after_s = parse_retry_after(headers)
        return RateLimited(
            f"{label} is rate limiting us; try again shortly ({detail}).",
            retry_after_s=retry_after_s,
        )
    if status in (401, 403):
        return AuthenticationFailed(
            f"{label} refused the API key; check the key and its access to this model ({detail})."
        )
    if status == 404:
        return UnknownModel(
            f"{label} does not serve this model or deployment; check the name ({detail})."
        )
    if status == 408:
        return ProviderTimeout(f"{label} timed out; try again ({detail}).")
    if 400 <= status < 500:
        return BadRequest(f"{label} refused the request as malformed ({detail}).")
    return ProviderUnavailable(f"{label} failed on its side (HTTP {status}); try again ({detail}).")
