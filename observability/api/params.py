"""Query parameters shared by the read endpoints: trace filters, paging, time windows."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import Query
from pydantic import BaseModel, Field

from observability.api.errors import ApiError, ErrorCode
from observability.queries import TraceFilters, Window

MAX_LIMIT = 1000
DEFAULT_WINDOW = timedelta(days=1)


class TraceFilterBody(BaseModel):
    """Trace filters; every one given must hold (``None`` means any)."""

    start: datetime | None = None
    end: datetime | None = None
    provider: str | None = Field(default=None, max_length=64)
    model: str | None = Field(default=None, max_length=128)
    status: Literal["ok", "error"] | None = None
    customer: str | None = Field(default=None, max_length=128, description="the user id")
    conversation: str | None = Field(default=None, max_length=128)
    min_cost_usd: float | None = Field(default=None, ge=0, le=1e12)
    text: str | None = Field(default=None, max_length=200)

    def filters(self) -> TraceFilters:
        """The query layer's filters."""
        return TraceFilters(
            start=_utc(self.start),
            end=_utc(self.end),
            provider=self.provider,
            model=self.model,
            status=self.status,
            conversation_id=self.conversation,
            user_id=self.customer,
            min_cost_usd=self.min_cost_usd,
            text=self.text or None,
        )


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="at most 1000")]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
Fields = Annotated[
    str | None, Query(max_length=2000, description="comma-separated field names to keep")
]


def window_of(start: datetime | None, end: datetime | None) -> Window:
    """``[start, end)`` in UTC; by default the last day up to now."""
    try:
        until = _utc(end) or datetime.now(UTC)
        since = _utc(start) or until - DEFAULT_WINDOW
    except OverflowError:
        raise ApiError(
            400, ErrorCode.INVALID_REQUEST, "start and end must fall between the years 1 and 9999."
        ) from None
    if since >= until:
        raise ApiError(
            400, ErrorCode.INVALID_REQUEST, "start must come before end.",
            details={"start": since.isoformat(), "end": until.isoformat()},
        )  # fmt: skip
    return Window(since, until)


def encode_cursor(start: datetime, trace_id: str) -> str:
    """An opaque cursor for the page after the trace (``start``, ``trace_id``)."""
    raw = json.dumps([start.isoformat(), trace_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The trace a cursor points after; 400 for a cursor this API did not give."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        start, trace_id = json.loads(raw)
        moment = datetime.fromisoformat(start)
        if not isinstance(trace_id, str) or moment.tzinfo is None:
            raise ValueError(cursor)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ApiError(
            400,
            ErrorCode.INVALID_REQUEST,
            "cursor is not one this API gave; use the next_cursor of the previous page.",
        ) from None
    return moment, trace_id


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
