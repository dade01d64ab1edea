"""Rollups of LLM calls: what a batch of span rows adds to each rollup and trace row.

A *call* is a span with ``gen_ai.operation.name`` and ``gen_ai.provider.name`` (the client span
an instrumentation makes); an *attempt* is a router span carrying ``observatory.attempt``. The
same definitions exist twice, once in Python (``RollupBatch``, for writers on SQLite and plain
PostgreSQL) and once in SQL (``call_metrics``, for TimescaleDB continuous aggregates and for
queries that read ``spans`` directly); tests hold the two to the same answers.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func
from sqlalchemy.sql.elements import ColumnClause

from observability.store.schema import (
    CALL_DIMENSIONS,
    DURATION_BINS,
    HISTOGRAM_BINS,
    LATENCY_BOUNDS_MS,
    SPENDER_DIMENSIONS,
    SUM_METRICS,
    TTFC_BINS,
    spans,
)

_M = {name: i for i, name in enumerate(SUM_METRICS)}
_WIDTH = len(SUM_METRICS) + 2 * HISTOGRAM_BINS
Key = tuple[Any, ...]


def latency_bin(milliseconds: float) -> int:
    """The histogram bin holding ``milliseconds``."""
    return bisect_right(LATENCY_BOUNDS_MS, milliseconds)


def row_model(row: dict[str, Any]) -> str:
    """The model a call is grouped under: the requested one (Azure: a deployment)."""
    return row["request_model"] or row["response_model"] or ""


class RollupBatch:
    """Sums one batch of span rows into rollup rows and trace rows, ready to upsert."""

    def __init__(self) -> None:
        self.minute: dict[Key, list[Any]] = {}
        self.hour: dict[Key, list[Any]] = {}
        self.spenders: dict[Key, list[Any]] = {}
        self.traces: dict[str, dict[str, Any]] = {}

    def add(self, row: dict[str, Any]) -> None:
        """Count ``row`` in every rollup it belongs to and in its trace."""
        self._add_trace(row)
        is_call = row["operation"] is not None and row["provider"] is not None
        if not is_call and row["attempt"] is None:
            return
        start: datetime = row["start_time"]
        minute = start.replace(second=0, microsecond=0)
        hour = minute.replace(minute=0)
        dims = (
            row["provider"] or "",
            row_model(row),
            row["experiment"] or "",
            row["variant"] or "",
            row["scenario"] or "",
        )
        people = (row["user_id"] or "", row["conversation_id"] or "")
        for target, key in (
            (self.minute, (minute, *dims)),
            (self.hour, (hour, *dims)),
            (self.spenders, (hour, *people)),
        ):
            values = target.get(key)
            if values is None:
                values = target[key] = [0] * _WIDTH
            _count(values, row, is_call)

    def rollup_rows(
        self, which: dict[Key, list[Any]], keys: tuple[str, ...]
    ) -> list[dict[str, Any]]:
        """The rows of one rollup, sorted by key (so concurrent writers lock in one order)."""
        names = ("bucket", *keys, *SUM_METRICS, *DURATION_BINS, *TTFC_BINS)
        width = 1 + len(keys) + (len(SUM_METRICS) if keys == SPENDER_DIMENSIONS else _WIDTH)
        return [
            dict(zip(names[:width], (*key, *values), strict=False))
            for key, values in sorted(which.items())
        ]

    def call_rollups(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Rows for the per-minute and per-hour call rollups."""
        return (
            self.rollup_rows(self.minute, CALL_DIMENSIONS),
            self.rollup_rows(self.hour, CALL_DIMENSIONS),
        )

    def spender_rollup(self) -> list[dict[str, Any]]:
        """Rows for the per-hour user/conversation rollup."""
        return self.rollup_rows(self.spenders, SPENDER_DIMENSIONS)

    def trace_rows(self) -> list[dict[str, Any]]:
        """One row per trace seen in the batch, sorted by trace id."""
        return [self.traces[trace_id] for trace_id in sorted(self.traces)]

    def _add_trace(self, row: dict[str, Any]) -> None:
        trace = self.traces.get(row["trace_id"])
        end = row["end_time"] or row["start_time"]
        if trace is None:
            trace = self.traces[row["trace_id"]] = {
                "trace_id": row["trace_id"], "start_time": row["start_time"], "end_time": end,
                "root_name": None, "service": row["service"], "span_count": 0, "call_count": 0,
                "error_count": 0, "input_tokens": 0, "output_tokens": 0, "cost_usd": None,
                "provider": None, "model": None, "conversation_id": None, "user_id": None,
            }  # fmt: skip
        trace["start_time"] = min(trace["start_time"], row["start_time"])
        trace["end_time"] = max(trace["end_time"], end)
        trace["span_count"] += 1
        trace["error_count"] += row["status"] == "error"
        if row["parent_span_id"] is None:
            trace["root_name"] = row["name"]
        for column in ("conversation_id", "user_id"):
            trace[column] = trace[column] or row[column]
        if row["operation"] is not None and row["provider"] is not None:
            trace["call_count"] += 1
            trace["input_tokens"] += row["input_tokens"] or 0
            trace["output_tokens"] += row["output_tokens"] or 0
            if row["cost_usd"] is not None:
                trace["cost_usd"] = (trace["cost_usd"] or 0.0) + row["cost_usd"]
            trace["provider"] = trace["provider"] or row["provider"]
            trace["model"] = trace["model"] or row_model(row) or None


def _count(values: list[Any], row: dict[str, Any], is_call: bool) -> None:
    if row["attempt"] is not None:
        values[_M["attempts"]] += 1
        values[_M["retries"]] += row["attempt"] > 1
        values[_M["fallbacks"]] += row["fallback_reason"] is not None
    if not is_call:
        return
    values[_M["requests"]] += 1
    values[_M["errors"]] += row["status"] == "error"
    values[_M["unpriced"]] += row["cost_status"] == "unpriced"
    values[_M["cache_hits"]] += bool(row["cache_hit"])
    for name in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens"):
        values[_M[name]] += row[name] or 0
    values[_M["cost_usd"]] += row["cost_usd"] or 0.0
    if row["duration_ms"] is not None:
        values[_M["duration_ms_sum"]] += row["duration_ms"]
        values[len(SUM_METRICS) + latency_bin(row["duration_ms"])] += 1
    if row["ttfc_ms"] is not None:
        values[_M["ttfc_count"]] += 1
        values[_M["ttfc_ms_sum"]] += row["ttfc_ms"]
        values[len(SUM_METRICS) + HISTOGRAM_BINS + latency_bin(row["ttfc_ms"])] += 1


def _is_call() -> ColumnElement[bool]:
    return and_(spans.c.operation.is_not(None), spans.c.provider.is_not(None))


def _when(condition: ColumnElement[bool], value: Any = 1) -> Any:
    return func.sum(case((condition, value), else_=0))


def _bins(column: ColumnClause[Any], names: Iterable[str]) -> list[Any]:
    bounds = (0.0, *LATENCY_BOUNDS_MS)
    expressions = []
    for i, name in enumerate(names):
        low = column >= bounds[i] if i else column.is_not(None)
        high = column < LATENCY_BOUNDS_MS[i] if i < len(LATENCY_BOUNDS_MS) else None
        condition = and_(_is_call(), low, high) if high is not None else and_(_is_call(), low)
        expressions.append(_when(condition).label(name))
    return expressions


def call_metrics(*, histograms: bool) -> list[Any]:
    """SQL aggregates over ``spans`` with the same meaning as ``RollupBatch`` sums."""
    call, attempted = _is_call(), spans.c.attempt.is_not(None)
    c = spans.c
    metrics = [
        _when(call).label("requests"),
        _when(and_(call, c.status == "error")).label("errors"),
        _when(and_(call, c.cost_status == "unpriced")).label("unpriced"),
        *(
            _when(call, func.coalesce(c[name], 0)).label(name)
            for name in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
        ),
        _when(call, func.coalesce(c.cost_usd, 0)).label("cost_usd"),
        _when(call, func.coalesce(c.duration_ms, 0.0)).label("duration_ms_sum"),
        _when(and_(call, c.ttfc_ms.is_not(None))).label("ttfc_count"),
        _when(call, func.coalesce(c.ttfc_ms, 0.0)).label("ttfc_ms_sum"),
        _when(attempted).label("attempts"),
        _when(and_(attempted, c.attempt > 1)).label("retries"),
        _when(and_(attempted, c.fallback_reason.is_not(None))).label("fallbacks"),
        _when(and_(call, c.cache_hit.is_(True))).label("cache_hits"),
    ]
    if histograms:
        metrics += _bins(c.duration_ms, DURATION_BINS) + _bins(c.ttfc_ms, TTFC_BINS)
    return metrics


def dimension_columns() -> dict[str, Any]:
    """Rollup key columns as SQL over ``spans`` (``''`` for a missing value)."""
    c = spans.c
    return {
        "provider": func.coalesce(c.provider, ""),
        "model": func.coalesce(c.request_model, c.response_model, ""),
        "experiment": func.coalesce(c.experiment, ""),
        "variant": func.coalesce(c.variant, ""),
        "scenario": func.coalesce(c.scenario, ""),
        "user_id": func.coalesce(c.user_id, ""),
        "conversation_id": func.coalesce(c.conversation_id, ""),
    }


def rollup_filter() -> ColumnElement[bool]:
    """Spans that count in rollups: calls and attempts."""
    return (_is_call() | spans.c.attempt.is_not(None)).self_group()
