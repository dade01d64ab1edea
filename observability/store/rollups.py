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
from operator import add, itemgetter
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, case, func
from sqlalchemy.sql.elements import ColumnClause

from observability.store.rows import SpanRow
from observability.store.schema import (
    DURATION_BINS,
    HISTOGRAM_BINS,
    LATENCY_BOUNDS_MS,
    SUM_METRICS,
    TTFC_BINS,
    rollup_hour,
    rollup_minute,
    rollup_spenders,
    spans,
    traces,
)

_M = {name: i for i, name in enumerate(SUM_METRICS)}
_SUMS = len(SUM_METRICS)
_WIDTH = _SUMS + 2 * HISTOGRAM_BINS
_TOKENS = tuple(
    (_M[name], SpanRow._fields.index(name))
    for name in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
)
"""(rollup metric, span row field) of each token count."""
_trace_tuple = itemgetter(*traces.c.keys())
Key = tuple[Any, ...]
Increments = list[tuple[int, Any]]


def latency_bin(milliseconds: float) -> int:
    """The histogram bin holding ``milliseconds``."""
    return bisect_right(LATENCY_BOUNDS_MS, milliseconds)


def row_model(row: SpanRow) -> str:
    """The model a call is grouped under: the requested one (Azure: a deployment)."""
    return row.request_model or row.response_model or ""


class RollupBatch:
    """Sums one batch of span rows into rollup rows and trace rows, ready to upsert."""

    def __init__(self) -> None:
        self.minute: dict[Key, list[Any]] = {}
        self.spenders: dict[Key, list[Any]] = {}
        self.traces: dict[str, dict[str, Any]] = {}
        self._chatted: set[str] = set()
        """Traces whose provider and model come from a chat call (which beats an embedding)."""
        self._buckets: dict[tuple[int, ...], tuple[datetime, datetime]] = {}
        """Minute and hour of each minute seen (``datetime.replace`` costs a microsecond)."""
        self._hour_of: dict[datetime, datetime] = {}

    def add(self, row: SpanRow) -> None:
        """Count ``row`` in every rollup it belongs to and in its trace."""
        is_call = row.operation is not None and row.provider is not None
        self._add_trace(row, is_call)
        if not is_call and row.attempt is None:
            return
        sums, bins = _increments(row, is_call)
        minute, hour = self._bucket(row.start_time)
        key = (
            minute,
            row.provider or "",
            row_model(row),
            row.experiment or "",
            row.variant or "",
            row.scenario or "",
        )
        values = self.minute.get(key)
        if values is None:
            values = self.minute[key] = [0] * _WIDTH
        for index, amount in sums:
            values[index] += amount
        for index in bins:
            values[index] += 1
        spender = (hour, row.user_id or "", row.conversation_id or "")
        values = self.spenders.get(spender)
        if values is None:
            values = self.spenders[spender] = [0] * _SUMS
        for index, amount in sums:
            values[index] += amount

    def hour(self) -> dict[Key, list[Any]]:
        """The hourly call rollup rows, summed from the minute ones."""
        hours: dict[Key, list[Any]] = {}
        for (minute, *dims), values in self.minute.items():
            key = (self._hour_of[minute], *dims)
            summed = hours.get(key)
            hours[key] = values.copy() if summed is None else list(map(add, summed, values))
        return hours

    def upserts(self, *, rollups: bool) -> list[tuple[Table, list[tuple[Any, ...]]]]:
        """What to upsert, per table, as tuples in the table's column order: the traces and,
        with ``rollups``, the three rollups. Rows are sorted by key, so that concurrent
        writers lock rows in one order."""
        merges: list[tuple[Table, list[tuple[Any, ...]]]] = [
            (traces, [_trace_tuple(self.traces[t]) for t in sorted(self.traces)])
        ]
        if rollups:
            for table, sums in (
                (rollup_minute, self.minute),
                (rollup_hour, self.hour()),
                (rollup_spenders, self.spenders),
            ):
                merges.append((table, [(*key, *values) for key, values in sorted(sums.items())]))
        return merges

    def _bucket(self, start: datetime) -> tuple[datetime, datetime]:
        """The minute and the hour ``start`` falls in."""
        fields = (start.year, start.month, start.day, start.hour, start.minute)
        buckets = self._buckets.get(fields)
        if buckets is None:
            minute = start.replace(second=0, microsecond=0)
            buckets = self._buckets[fields] = (minute, minute.replace(minute=0))
            self._hour_of[minute] = buckets[1]
        return buckets

    def _add_trace(self, row: SpanRow, is_call: bool) -> None:
        start = row.start_time
        end = row.end_time or start
        trace = self.traces.get(row.trace_id)
        if trace is None:
            trace = self.traces[row.trace_id] = {
                "trace_id": row.trace_id, "start_time": start, "end_time": end,
                "root_name": None, "service": row.service, "span_count": 0, "call_count": 0,
                "error_count": 0, "input_tokens": 0, "output_tokens": 0, "cost_usd": None,
                "provider": None, "model": None, "conversation_id": None, "user_id": None,
            }  # fmt: skip
        else:
            if start < trace["start_time"]:
                trace["start_time"] = start
            if end > trace["end_time"]:
                trace["end_time"] = end
        trace["span_count"] += 1
        trace["error_count"] += row.status == "error"
        if row.parent_span_id is None:
            trace["root_name"] = row.name
        trace["conversation_id"] = trace["conversation_id"] or row.conversation_id
        trace["user_id"] = trace["user_id"] or row.user_id
        if is_call:
            trace["call_count"] += 1
            trace["input_tokens"] += row.input_tokens or 0
            trace["output_tokens"] += row.output_tokens or 0
            if row.cost_usd is not None:
                trace["cost_usd"] = (trace["cost_usd"] or 0.0) + row.cost_usd
            chat = row.operation == "chat"
            if trace["model"] is None or (chat and row.trace_id not in self._chatted):
                trace["provider"] = row.provider
                trace["model"] = row_model(row) or None
            if chat:
                self._chatted.add(row.trace_id)


def _increments(row: SpanRow, is_call: bool) -> tuple[Increments, list[int]]:
    """What ``row`` adds to its rollup rows: ``(index, amount)`` pairs for the sums (zeros
    left out, except ``cost_usd``, whose sum is a float even when every call is unpriced) and
    the indexes of the histogram bins it counts in."""
    sums: Increments = []
    attempt = row.attempt
    if attempt is not None:
        sums.append((_M["attempts"], 1))
        if attempt > 1:
            sums.append((_M["retries"], 1))
        if row.fallback_reason is not None:
            sums.append((_M["fallbacks"], 1))
    if not is_call:
        return sums, []
    sums.append((_M["requests"], 1))
    sums.append((_M["cost_usd"], row.cost_usd or 0.0))
    if row.status == "error":
        sums.append((_M["errors"], 1))
    if row.cost_status == "unpriced":
        sums.append((_M["unpriced"], 1))
    if row.cache_hit:
        sums.append((_M["cache_hits"], 1))
    for index, field in _TOKENS:
        if row[field]:
            sums.append((index, row[field]))
    bins: list[int] = []
    duration = row.duration_ms
    if duration is not None:
        sums.append((_M["duration_ms_sum"], duration))
        bins.append(_SUMS + latency_bin(duration))
    ttfc = row.ttfc_ms
    if ttfc is not None:
        sums.append((_M["ttfc_count"], 1))
        sums.append((_M["ttfc_ms_sum"], ttfc))
        bins.append(_SUMS + HISTOGRAM_BINS + latency_bin(ttfc))
    return sums, bins


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
