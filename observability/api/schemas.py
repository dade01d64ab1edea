"""The API's request and response bodies (pydantic), as the OpenAPI document shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class TokenRequest(BaseModel):
    """A client's credentials."""

    client_id: str = Field(min_length=1, max_length=200)
    client_secret: str = Field(min_length=1, max_length=500)


class TokenAnswer(BaseModel):
    """A bearer token and how long it lasts."""

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    scope: str


class Health(BaseModel):
    """Whether the API, its store and its ingest are up."""

    status: Literal["ok", "degraded", "starting"]
    store: Literal["ok", "unavailable"]
    ingest: Literal["ok", "starting", "unavailable"]
    spans_pending: int | None = None
    spans_dropped: int | None = None
    problem: str | None = None


class ErrorDetail(BaseModel):
    """One error: a code from the catalogue, a sentence, details and the request's id."""

    code: str
    message: str
    details: dict[str, Any]
    request_id: str


class ErrorBody(BaseModel):
    """Every answer that is not a success."""

    error: ErrorDetail


class Record(BaseModel):
    """A row of a list; ``fields=`` chooses which keys it has."""

    model_config = ConfigDict(extra="allow")


class Paging(BaseModel):
    """Where a page sits: offset, limit, whether more follow, and the cursor to the next."""

    offset: int
    limit: int
    has_more: bool
    next_cursor: str | None = None


class RecordList(BaseModel):
    """A page of records."""

    data: list[Record]
    paging: Paging | None = None


class TraceDetail(BaseModel):
    """A trace: its summary row and every span in it."""

    trace: Record
    spans: list[Record]


class AnalyticsAnswer(BaseModel):
    """Rows of an analytics query over ``[start, end)``."""

    start: datetime
    end: datetime
    granularity: str | None = None
    group_by: str | None = None
    data: list[Record]


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in (
        (400, "A parameter the API cannot use."),
        (401, "No token, or a token that is expired or not ours."),
        (403, "The token lacks the endpoint's scope."),
        (404, "No such trace or export."),
        (409, "The export is not in a state that allows this."),
        (422, "A parameter or body that does not validate."),
        (429, "Over the client's rate limit; see Retry-After."),
        (503, "The trace store did not answer."),
    )
}
"""The error answers every authenticated endpoint can give, for the OpenAPI document."""
