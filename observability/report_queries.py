"""Analytics the API serves beyond the dashboard's: performance over time, answer quality and
a model comparison. ``ReportQueries`` is a ``TraceQueries`` with these added; every aggregate
reads the rollups, except quality, which reads the few spans that carry it (the turn spans'
scores, the thumbs' annotation spans and the escalating tool calls) within the window.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, Float, Table, and_, case, cast, false, func, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql import ColumnElement

from observability.queries import (
    Bucket,
    Dimension,
    QueryError,
    TraceQueries,
    Window,
    histogram_percentile,
)
from observability.store.dialect import truncate_time
from observability.store.schema import (
    DURATION_BINS,
    TTFC_BINS,
    UtcDateTime,
    rollup_hour,
    rollup_minute,
    spans,
)

QUALITY_SPAN = "turn"
"""The span that carries a turn's ``observatory.quality.score``."""
QUALITY_SCORE = "observatory.quality.score"
FEEDBACK_SPAN = "annotation feedback"
ANNOTATION_VALUE = "observatory.annotation.value"
_BREAKDOWN_SUMS = (
    *("requests", "unpriced", "unpriced_tokens", "input_tokens", "output_tokens"),
    *("cache_read_tokens", "cache_write_tokens"),
)
_BUCKET_MINUTES = {Bucket.MINUTE: 1.0, Bucket.HOUR: 60.0, Bucket.DAY: 1440.0}


class ReportQueries(TraceQueries):
    """``TraceQueries`` plus the API's performance, quality and model-comparison reports."""

    @property
    def engine(self) -> Engine:
        """The trace store's engine (for exports)."""
        return self._engine

    def performance(
        self, window: Window, bucket: Bucket, group_by: Dimension | None = None
    ) -> pd.DataFrame:
        """Per ``bucket`` (and group): requests, throughput_per_min, errors, error_rate,
        p50/p95/p99_ms and ttfc_p50/p95/p99_ms (NaN without data)."""
        if group_by is not None and group_by.per_person:
            raise QueryError("Performance groups by provider, model, experiment, variant or "
                             "scenario, not by user or conversation.")  # fmt: skip
        table = rollup_minute if bucket is Bucket.MINUTE else rollup_hour
        time: ColumnElement[Any] = table.c.bucket
        if bucket is Bucket.DAY:
            time = truncate_time(self._dialect, table.c.bucket, "day", UtcDateTime())
        keys = [time.label("bucket"), *([table.c[group_by.value]] if group_by else [])]
        bins = [func.sum(table.c[b]).label(b) for b in (*DURATION_BINS, *TTFC_BINS)]
        query = (
            select(*keys, func.sum(table.c.requests).label("requests"),
                   func.sum(table.c.errors).label("errors"), *bins)
            .where(*_in_window(table, window, bucket))
            .group_by(*keys)
            .order_by(*keys)
        )  # fmt: skip
        frame = self._frame(query)
        frame["bucket"] = pd.to_datetime(frame["bucket"], utc=True)
        frame["throughput_per_min"] = frame["requests"].astype(float) / _BUCKET_MINUTES[bucket]
        frame["error_rate"] = _share(frame["errors"], frame["requests"])
        return _with_percentiles(frame)

    def cost_breakdown(self, window: Window, by: Dimension, *, limit: int = 50) -> pd.DataFrame:
        """Over the whole window, per provider, model, experiment, variant or scenario:
        requests, tokens, cost and unpriced calls, costliest first (one row per group, summed
        in the database from the per-hour or per-minute rollup)."""
        if by.per_person:
            raise QueryError("Use top_spenders for users and conversations.")
        short = window.end - window.start <= _SIX_HOURS
        table = rollup_minute if short else rollup_hour
        grain = Bucket.MINUTE if short else Bucket.HOUR
        key = table.c[by.value]
        cost = func.coalesce(func.sum(table.c.cost_usd), 0.0)
        sums = [func.coalesce(func.sum(table.c[m]), 0).label(m) for m in _BREAKDOWN_SUMS]
        query = (
            select(key, *sums, cost.label("cost_usd"))
            .where(*_in_window(table, window, grain))
            .group_by(key)
            .order_by(cost.desc(), key)
            .limit(limit)
        )
        return self._frame(query)

    def compare_models(self, window: Window) -> pd.DataFrame:
        """One row per model: requests, errors, error_rate, fallbacks, input/output tokens,
        cost_usd, unpriced, cost_per_request_usd, cost_per_1k_tokens_usd, p50/p95/p99_ms,
        ttfc_p50/p95/p99_ms, and the quality of the traces that called it (thumbs_up_rate,
        quality_score)."""
        table = rollup_minute if window.end - window.start <= _SIX_HOURS else rollup_hour
        grain = Bucket.MINUTE if table is rollup_minute else Bucket.HOUR
        sums = ["requests", "errors", "fallbacks", "input_tokens", "output_tokens", "cost_usd",
                "unpriced"]  # fmt: skip
        bins = [func.sum(table.c[b]).label(b) for b in (*DURATION_BINS, *TTFC_BINS)]
        query = (
            select(table.c.model, *(func.coalesce(func.sum(table.c[s]), 0).label(s) for s in sums),
                   *bins)
            .where(*_in_window(table, window, grain), table.c.model != "")
            .group_by(table.c.model)
            .order_by(table.c.model)
        )  # fmt: skip
        frame = self._frame(query)
        frame["error_rate"] = _share(frame["errors"], frame["requests"])
        frame["cost_per_request_usd"] = _share(
            frame["cost_usd"], frame["requests"] - frame["unpriced"]
        )
        tokens = frame["input_tokens"] + frame["output_tokens"]
        frame["cost_per_1k_tokens_usd"] = _share(frame["cost_usd"] * 1000, tokens)
        frame = _with_percentiles(frame)
        quality = self._model_quality(window)
        return (
            frame.merge(quality, on="model", how="left")
            if not frame.empty
            else frame.assign(
                thumbs_up_rate=pd.Series(dtype=float), quality_score=pd.Series(dtype=float)
            )
        )

    def quality(
        self, window: Window, bucket: Bucket, *, escalation_tools: Iterable[str] = ()
    ) -> pd.DataFrame:
        """Per ``bucket``: turns, quality_score (mean), feedback (thumbs given), thumbs_up,
        thumbs_up_rate, escalations (turns that called one of ``escalation_tools``) and
        escalation_rate."""
        time = truncate_time(self._dialect, spans.c.start_time, bucket.value, UtcDateTime())
        value = self._json_float(ANNOTATION_VALUE)
        score = self._json_float(QUALITY_SCORE)
        escalating = [f"execute_tool {tool}" for tool in escalation_tools]
        is_turn = spans.c.name == QUALITY_SPAN
        is_feedback = spans.c.name == FEEDBACK_SPAN
        is_escalation = spans.c.name.in_(escalating) if escalating else false()
        query = (
            select(
                time.label("bucket"),
                func.sum(case((is_turn, 1), else_=0)).label("turns"),
                func.avg(case((is_turn, score), else_=None)).label("quality_score"),
                func.sum(case((is_feedback, 1), else_=0)).label("feedback"),
                func.sum(case((and_(is_feedback, value > 0), 1), else_=0)).label("thumbs_up"),
                func.sum(case((is_escalation, 1), else_=0)).label("escalations"),
            )
            .where(
                spans.c.start_time >= window.start,
                spans.c.start_time < window.end,
                is_turn | is_feedback | is_escalation,
            )
            .group_by(time)
            .order_by(time)
        )
        frame = self._frame(query)
        frame["bucket"] = pd.to_datetime(frame["bucket"], utc=True)
        frame["thumbs_up_rate"] = _share(frame["thumbs_up"], frame["feedback"])
        frame["escalation_rate"] = _share(frame["escalations"], frame["turns"])
        return frame

    def _model_quality(self, window: Window) -> pd.DataFrame:
        """Thumbs-up rate and mean quality score of the traces that called each chat model."""
        chat = (
            select(spans.c.trace_id, func.coalesce(spans.c.response_model, spans.c.request_model)
                   .label("model"))
            .where(spans.c.start_time >= window.start, spans.c.start_time < window.end,
                   spans.c.operation == "chat")
            .distinct()
            .subquery()
        )  # fmt: skip
        value = self._json_float(ANNOTATION_VALUE)
        score = self._json_float(QUALITY_SCORE)
        is_feedback = spans.c.name == FEEDBACK_SPAN
        query = (
            select(
                chat.c.model,
                func.sum(case((is_feedback, 1), else_=0)).label("feedback"),
                func.sum(case((and_(is_feedback, value > 0), 1), else_=0)).label("thumbs_up"),
                func.avg(case((spans.c.name == QUALITY_SPAN, score), else_=None))
                .label("quality_score"),
            )
            .join(chat, chat.c.trace_id == spans.c.trace_id)
            .where(spans.c.start_time >= window.start,
                   spans.c.name.in_([QUALITY_SPAN, FEEDBACK_SPAN]))
            .group_by(chat.c.model)
        )  # fmt: skip
        frame = self._frame(query)
        frame["thumbs_up_rate"] = _share(frame["thumbs_up"], frame["feedback"])
        return frame[["model", "thumbs_up_rate", "quality_score"]]

    def _json_float(self, key: str) -> ColumnElement[Any]:
        """A number among a span's attributes (its JSON text), as a float."""
        if self._dialect.is_postgres:
            document = type_coerce(cast(spans.c.attributes, JSONB), JSONB)
            return cast(document[key].astext, Float)
        return cast(func.json_extract(spans.c.attributes, f'$."{key}"'), Float)


_SIX_HOURS = pd.Timedelta(hours=6).to_pytimedelta()


def _in_window(table: Table, window: Window, bucket: Bucket) -> list[ColumnElement[bool]]:
    start = window.start.astimezone(UTC).replace(second=0, microsecond=0)
    if bucket is not Bucket.MINUTE:
        start = start.replace(minute=0)
    return [table.c.bucket >= start, table.c.bucket < window.end]


def _with_percentiles(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with p50/p95/p99 of latency and time to first chunk instead of its bins."""
    for prefix, names in (("", DURATION_BINS), ("ttfc_", TTFC_BINS)):
        counts = frame[list(names)].to_numpy(dtype=float)
        for q in (50, 95, 99):
            frame[f"{prefix}p{q}_ms"] = [histogram_percentile(row, q / 100) for row in counts]
    return frame.drop(columns=[*DURATION_BINS, *TTFC_BINS])


def _share(part: pd.Series, whole: pd.Series) -> pd.Series:
    return part.astype(float) / whole.astype(float).where(whole > 0, np.nan)
