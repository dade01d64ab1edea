"""``GET /api/v1/metrics/performance``, ``/metrics/quality``, ``/costs/analytics``,
``/costs/breakdown`` and ``/models/compare``: each decodes its window and grouping, checks the
scope and answers what ``ReportQueries`` returns."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Query, Request, Response

from observability.api.config import Scope
from observability.api.deps import authorized
from observability.api.params import Fields, window_of
from observability.api.responses import cached_json, parse_fields, records, select_fields
from observability.api.schemas import ERRORS, AnalyticsAnswer
from observability.api.services import ApiServices
from observability.queries import Bucket, Dimension, Window

Start = Annotated[datetime | None, Query(description="from (inclusive); default: a day ago")]
End = Annotated[datetime | None, Query(description="until (exclusive); default: now")]
Granularity = Annotated[Bucket, Query(description="time bucket")]


class CallGroup(StrEnum):
    """What call metrics can be grouped by."""

    PROVIDER = "provider"
    MODEL = "model"
    EXPERIMENT = "experiment"
    VARIANT = "variant"
    SCENARIO = "scenario"


class CostGroup(StrEnum):
    """What costs can be broken down or grouped by."""

    PROVIDER = "provider"
    MODEL = "model"
    EXPERIMENT = "experiment"
    VARIANT = "variant"
    SCENARIO = "scenario"
    CUSTOMER = "customer"
    CONVERSATION = "conversation"


_DIMENSIONS = {
    "provider": Dimension.PROVIDER,
    "model": Dimension.MODEL,
    "experiment": Dimension.EXPERIMENT,
    "variant": Dimension.VARIANT,
    "scenario": Dimension.SCENARIO,
    "customer": Dimension.USER,
    "conversation": Dimension.CONVERSATION,
}


def analytics_router(services: ApiServices) -> APIRouter:
    """Metrics (scope ``metrics:read``), costs (``costs:read``) and model comparison
    (``metrics:read``)."""
    router = APIRouter(prefix="/api/v1", responses=ERRORS)
    metrics_reader = authorized(services, Scope.METRICS_READ)
    costs_reader = authorized(services, Scope.COSTS_READ)
    queries = services.queries

    def answer(
        request: Request,
        frame: pd.DataFrame,
        window: Window,
        fields: str | None,
        **about: str | None,
    ) -> Response:
        chosen = parse_fields(fields, frame.columns)
        payload = {
            "start": window.start.isoformat(),
            "end": window.end.isoformat(),
            **about,
            "data": select_fields(records(frame), chosen),
        }
        return cached_json(request, payload, queries.latest_trace_start())

    @router.get(
        "/metrics/performance",
        response_model=AnalyticsAnswer,
        tags=["metrics"],
        dependencies=[metrics_reader],
    )
    def performance(
        request: Request,
        start: Start = None,
        end: End = None,
        granularity: Granularity = Bucket.HOUR,
        group_by: CallGroup | None = None,
        fields: Fields = None,
    ) -> Response:
        """p50/p95/p99 latency, time to first chunk, throughput and error rate per time bucket
        (and per model, provider… with ``group_by``)."""
        window = window_of(start, end)
        dimension = _DIMENSIONS[group_by.value] if group_by else None
        frame = queries.performance(window, granularity, dimension)
        return answer(request, frame, window, fields, granularity=granularity.value,
                      group_by=group_by.value if group_by else None)  # fmt: skip

    @router.get(
        "/metrics/quality",
        response_model=AnalyticsAnswer,
        tags=["metrics"],
        dependencies=[metrics_reader],
    )
    def quality(
        request: Request,
        start: Start = None,
        end: End = None,
        granularity: Granularity = Bucket.HOUR,
        fields: Fields = None,
    ) -> Response:
        """Thumbs-up rate, mean quality score and escalation rate per time bucket."""
        window = window_of(start, end)
        frame = queries.quality(
            window, granularity, escalation_tools=services.config.escalation_tools
        )
        return answer(request, frame, window, fields, granularity=granularity.value)

    @router.get(
        "/costs/analytics",
        response_model=AnalyticsAnswer,
        tags=["costs"],
        dependencies=[costs_reader],
    )
    def cost_analytics(
        request: Request,
        start: Start = None,
        end: End = None,
        granularity: Granularity = Bucket.HOUR,
        group_by: CostGroup | None = None,
        fields: Fields = None,
    ) -> Response:
        """Requests, tokens and cost per time bucket (and per group: by customer or
        conversation the ten biggest spenders each get a series, the rest share "(others)")."""
        window = window_of(start, end)
        dimension = _DIMENSIONS[group_by.value] if group_by else None
        frame = queries.usage_over_time(window, granularity, dimension)
        if dimension is not None:
            frame = frame.rename(columns={dimension.value: group_by.value})  # type: ignore[union-attr]
        return answer(request, frame, window, fields, granularity=granularity.value,
                      group_by=group_by.value if group_by else None)  # fmt: skip

    @router.get(
        "/costs/breakdown",
        response_model=AnalyticsAnswer,
        tags=["costs"],
        dependencies=[costs_reader],
    )
    def cost_breakdown(
        request: Request,
        start: Start = None,
        end: End = None,
        by: CostGroup = CostGroup.MODEL,
        limit: Annotated[int, Query(ge=1, le=1000)] = 50,
        fields: Fields = None,
    ) -> Response:
        """Cost, requests and tokens over the window per provider, model, experiment, variant,
        scenario, customer or conversation, costliest first."""
        window = window_of(start, end)
        dimension = _DIMENSIONS[by.value]
        if dimension.per_person:
            frame = queries.top_spenders(window, dimension, limit=limit)
        else:
            frame = queries.cost_breakdown(window, dimension, limit=limit)
        frame = frame.rename(columns={dimension.value: by.value})
        return answer(request, frame, window, fields, group_by=by.value)

    @router.get(
        "/models/compare",
        response_model=AnalyticsAnswer,
        tags=["models"],
        dependencies=[metrics_reader],
    )
    def compare_models(
        request: Request, start: Start = None, end: End = None, fields: Fields = None
    ) -> Response:
        """Every model called in the window side by side: requests, cost per request and per
        1k tokens, latency percentiles, time to first chunk, error and fallback counts,
        thumbs-up rate and quality score."""
        window = window_of(start, end)
        return answer(request, queries.compare_models(window), window, fields)

    return router
