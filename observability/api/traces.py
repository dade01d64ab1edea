"""``GET /api/v1/traces``, ``GET /api/v1/traces/{id}`` and ``POST /api/v1/traces/search``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import orjson
import pandas as pd
from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field

from observability.api.config import Scope
from observability.api.deps import authorized
from observability.api.errors import ApiError, ErrorCode
from observability.api.params import (
    MAX_LIMIT,
    Fields,
    Limit,
    Offset,
    TraceFilterBody,
    decode_cursor,
    encode_cursor,
)
from observability.api.responses import cached_json, parse_fields, records, select_fields
from observability.api.schemas import ERRORS, RecordList, TraceDetail
from observability.api.services import ApiServices
from observability.queries import TracePage

TRACE_ID = r"^[0-9a-f]{32}$"


class TraceSearch(BaseModel):
    """Groups of filters combined with ``and`` (every group holds) or ``or`` (any does)."""

    operator: Literal["and", "or"] = "and"
    filters: list[TraceFilterBody] = Field(default_factory=list, max_length=20)
    offset: int = Field(default=0, ge=0, le=10_000_000)
    limit: int = Field(default=50, ge=1, le=MAX_LIMIT)
    fields: list[str] | None = Field(default=None, max_length=50)


def traces_router(services: ApiServices) -> APIRouter:
    """The trace endpoints (scope ``traces:read``)."""
    router = APIRouter(prefix="/api/v1/traces", tags=["traces"], responses=ERRORS)
    reader = authorized(services, Scope.TRACES_READ)
    queries = services.queries

    @router.get("", response_model=RecordList, dependencies=[reader])
    def list_traces(
        request: Request,
        filters: Annotated[TraceFilterBody, Query()],
        offset: Offset = 0,
        limit: Limit = 50,
        cursor: Annotated[str | None, Query(max_length=500)] = None,
        fields: Fields = None,
    ) -> Response:
        """Traces newest first, filtered; page by ``offset``/``limit`` or by ``cursor`` (the
        previous page's ``paging.next_cursor``)."""
        before = decode_cursor(cursor) if cursor else None
        page = queries.page_traces(filters.filters(), offset=offset, limit=limit, before=before)
        chosen = parse_fields(fields, page.traces.columns)
        payload = _page(page, offset, chosen)
        return cached_json(request, payload, queries.latest_trace_start())

    @router.get("/{trace_id}", response_model=TraceDetail, dependencies=[reader])
    def get_trace(
        request: Request,
        trace_id: Annotated[str, Path(pattern=TRACE_ID, description="32 hex digits")],
        fields: Fields = None,
    ) -> Response:
        """One trace and its spans (``fields`` selects the spans' fields)."""
        summary = queries.trace_summary(trace_id)
        if summary.empty:
            raise ApiError(404, ErrorCode.NOT_FOUND, f"There is no trace {trace_id}.")
        spans = queries.trace_spans(trace_id)
        chosen = parse_fields(fields, spans.columns)
        payload = {
            "trace": records(summary)[0],
            "spans": select_fields(records(spans), chosen),
        }
        last = summary["end_time"].iloc[0]
        return cached_json(request, payload, _moment(last))

    @router.post("/search", response_model=RecordList, dependencies=[reader])
    def search_traces(body: TraceSearch) -> Response:
        """Traces matching groups of filters, combined with ``and`` or ``or``."""
        page = queries.search_traces(
            [group.filters() for group in body.filters],
            match_all=body.operator == "and",
            offset=body.offset,
            limit=body.limit,
        )
        chosen = parse_fields(",".join(body.fields) if body.fields else None, page.traces.columns)
        return Response(
            orjson.dumps(_page(page, body.offset, chosen, cursor=False)),
            media_type="application/json",
        )

    return router


def _page(
    page: TracePage, offset: int, fields: list[str] | None, *, cursor: bool = True
) -> dict[str, object]:
    rows = records(page.traces)
    next_cursor = None
    if cursor and page.has_more and not page.traces.empty:
        last = page.traces.iloc[-1]
        next_cursor = encode_cursor(_moment(last["start_time"]), str(last["trace_id"]))
    return {
        "data": select_fields(rows, fields),
        "paging": {
            "offset": offset,
            "limit": page.page_size,
            "has_more": page.has_more,
            "next_cursor": next_cursor,
        },
    }


def _moment(value: object) -> datetime:
    return pd.Timestamp(value).to_pydatetime()
