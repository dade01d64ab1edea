"""Retry-After in every form a provider sends it, and one sentence per HTTP failure."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.errors import ProviderError
from core.providers.errors import (
    AuthenticationFailed,
    BadRequest,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    error_for_status,
    parse_retry_after,
)


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "2"}, 2.0),
        ({"retry-after": "0.5"}, 0.5),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
        ({"retry-after": "Mon, 23 Nov 2026 10:00:30 GMT"}, 30.0),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after_is_read_from_seconds_millis_or_a_date(
    headers: dict[str, str], seconds: float | None
) -> None:
    now = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)

    assert parse_retry_after(headers, now=now) == seconds


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (429, RateLimited),
        (401, AuthenticationFailed),
        (400, BadRequest),
        (408, ProviderTimeout),
        (502, ProviderUnavailable),
    ],
)
def test_each_status_becomes_one_provider_error_naming_the_model(
    status: int, kind: type[ProviderError]
) -> None:
    error = error_for_status(status, "OpenAI (gpt-4o)", "detail", {})

    assert isinstance(error, kind) and isinstance(error, ProviderError)
    assert str(error).startswith("OpenAI (gpt-4o)")
