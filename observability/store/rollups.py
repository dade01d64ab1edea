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
from operator import add
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Select, Table, and_, case, func, select, true
from sqlalchemy.sql.elements import ColumnClause

from observability import attributes as attr
from observability.store.dialect import StoreDialect, array_items, truncate_time
from observability.store.rows import SpanRow
from observability.store.schema import (
    DURATION_BINS,
    HISTOGRAM_BINS,
    LATENCY_BOUNDS_MS,
    REDACTION_DIMENSIONS,
    SPENDER_DAY_SUMS,
    SUM_METRICS,
    TTFC_BINS,
    UtcDateTime,
    redaction_rollup_day,
    rollup_day,
    rollup_hour,
    rollup_minute,
    rollup_spender_day,
    rollup_spenders,
    spans,
    traces,
)

_M = {name: i for i, name in enumerate(SUM_METRICS)}
_SUMS = len(SUM_METRICS)
_WIDTH = _SUMS + 2 * HISTOGRAM_BINS
_REQUESTS, _ERRORS, _UNPRICED, _UNPRICED_TOKENS, _CACHE_HITS = (
    _M[n] for n in ("requests", "errors", "unpriced", "unpriced_tokens", "cache_hits")
)
_COST, _DURATION_SUM, _TTFC_COUNT, _TTFC_SUM = (
    _M[n] for n in ("cost_usd", "duration_ms_sum", "ttfc_count", "ttfc_ms_sum")
)
_ATTEMPTS, _RETRIES, _FALLBACKS = (_M[n] for n in ("attempts", "retries", "fallbacks"))
_SPENDER_DAY = tuple(_M[n] for n in SPENDER_DAY_SUMS)
_TOKENS = tuple(
    _M[n] for n in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
)
_T = {name: i for i, name in enumerate(traces.c.keys())}
_T_ID, _T_START, _T_END, _T_ROOT, _T_SERVICE = (
    _T[n] for n in ("trace_id", "start_time", "end_time", "root_name", "service")
)
_T_SPANS, _T_CALLS, _T_ERRORS = (_T[n] for n in ("span_count", "call_count", "error_count"))
_T_INPUT, _T_OUTPUT, _T_COST, _T_PROVIDER, _T_MODEL = (
    _T[n] for n in ("input_tokens", "output_tokens", "cost_usd", "provider", "model")
)
_T_TURNS, _T_QUALITY, _T_ANSWERED, _T_ESCALATED, _T_VOTE = (
    _T[n] for n in ("turns", "quality", "answered", "escalated", "vote")
)
_T_IDS = tuple(
    (_T[n], n)
    for n in ("conversation_id", "user_id", "environment", "experiment", "variant", "scenario")
)
"""Trace columns that take the first value a span of the trace has, with the span field."""
TURN, FEEDBACK, ESCALATION, REDACTION = (
    "turn",
    "annotation feedback",
    "summarise_escalation",
    "redact_pii",
)
"""Span names: a chat turn, a customer's vote on an answer, a hand-off to a human agent and a
PII redaction (see ``observability.annotations`` and the engine in ``core``)."""
PII_KINDS = "observatory.pii.kinds"
"""The kinds of PII a ``redact_pii`` span redacted (an array)."""
_NEW_TRACE: list[Any] = [
    0 if i in (_T_SPANS, _T_CALLS, _T_ERRORS, _T_INPUT, _T_OUTPUT, _T_TURNS, _T_ESCALATED) else None
    for i in range(len(_T))
]
"""A trace's row before its first span is counted."""
Key = tuple[Any, ...]


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
        self.redactions: dict[Key, list[Any]] = {}
        """Texts redacted per day, kind of PII and the ``redact_pii`` span's own ids."""
        self.traces: dict[str, list[Any]] = {}
        """Each trace's row so far, in the ``traces`` table's column order."""
        self._chatted: set[str] = set()
        """Traces whose provider and model come from a chat call (which beats an embedding)."""
        self._buckets: dict[tuple[int, ...], tuple[datetime, datetime]] = {}
        """Minute and hour of each minute seen (``datetime.replace`` costs a microsecond)."""
        self._coarser: dict[datetime, tuple[datetime, datetime]] = {}
        """The hour and the day of each minute seen."""

    def add(self, row: SpanRow) -> None:
        """Count ``row`` in every rollup it belongs to and in its trace."""
        is_call = row.operation is not None and row.provider is not None
        self._add_trace(row, is_call)
        if row.name == REDACTION:
            self._add_redaction(row)
        attempt = row.attempt
        if not is_call and attempt is None:
            return
        minute, hour = self._bucket(row.start_time)
        key = (
            minute,
            row.provider or "",
            row_model(row),
            row.experiment or "",
            row.variant or "",
            row.scenario or "",
            row.environment or "",
        )
        calls = self.minute.get(key)
        if calls is None:
            calls = self.minute[key] = [0] * _WIDTH
        spender = (hour, row.user_id or "", row.conversation_id or "", *key[1:])
        spent = self.spenders.get(spender)
        if spent is None:
            spent = self.spenders[spender] = [0] * _SUMS
        if attempt is not None:
            retry = attempt > 1
            fallback = row.fallback_reason is not None
            for values in (calls, spent):
                values[_ATTEMPTS] += 1
                values[_RETRIES] += retry
                values[_FALLBACKS] += fallback
        if not is_call:
            return
        error = row.status == "error"
        unpriced = row.cost_status == "unpriced"
        cache_hit = bool(row.cache_hit)
        cost = row.cost_usd or 0.0
        tokens = (
            row.input_tokens or 0,
            row.output_tokens or 0,
            row.cache_read_tokens or 0,
            row.cache_write_tokens or 0,
        )
        duration = row.duration_ms
        ttfc = row.ttfc_ms
        for values in (calls, spent):
            values[_REQUESTS] += 1
            values[_ERRORS] += error
            values[_UNPRICED] += unpriced
            if unpriced:
                values[_UNPRICED_TOKENS] += tokens[0] + tokens[1]
            values[_CACHE_HITS] += cache_hit
            values[_COST] += cost
            for index, count in zip(_TOKENS, tokens, strict=True):
                values[index] += count
            if duration is not None:
                values[_DURATION_SUM] += duration
            if ttfc is not None:
                values[_TTFC_COUNT] += 1
                values[_TTFC_SUM] += ttfc
        if duration is not None:
            calls[_SUMS + latency_bin(duration)] += 1
        if ttfc is not None:
            calls[_SUMS + HISTOGRAM_BINS + latency_bin(ttfc)] += 1

    def hour(self) -> dict[Key, list[Any]]:
        """The hourly call rollup rows, summed from the minute ones."""
        return self._summed(0)

    def day(self) -> dict[Key, list[Any]]:
        """The daily call rollup rows, summed from the minute ones."""
        return self._summed(1)

    def spender_days(self) -> dict[Key, list[Any]]:
        """The daily spender rows: per day, customer and conversation, the sums and the latest
        hour of the hourly spender rows."""
        days: dict[Key, list[Any]] = {}
        for (hour, user, conversation, *_), values in self.spenders.items():
            key = (hour.replace(hour=0), user, conversation)
            summed = days.get(key)
            if summed is None:
                summed = days[key] = [0] * len(_SPENDER_DAY) + [hour]
            for i, index in enumerate(_SPENDER_DAY):
                summed[i] += values[index]
            summed[-1] = max(summed[-1], hour)
        return days

    def _summed(self, grain: int) -> dict[Key, list[Any]]:
        sums: dict[Key, list[Any]] = {}
        for (minute, *dims), values in self.minute.items():
            key = (self._coarser[minute][grain], *dims)
            summed = sums.get(key)
            sums[key] = values.copy() if summed is None else list(map(add, summed, values))
        return sums

    def upserts(self, *, rollups: bool) -> list[tuple[Table, list[tuple[Any, ...]]]]:
        """What to upsert, per table, as tuples in the table's column order: the traces and,
        with ``rollups``, the call rollups. Rows are sorted by key, so that concurrent
        writers lock rows in one order."""
        merges: list[tuple[Table, list[tuple[Any, ...]]]] = [
            (traces, [tuple(self.traces[t]) for t in sorted(self.traces)])
        ]
        if rollups:
            for table, sums in (
                (rollup_minute, self.minute),
                (rollup_hour, self.hour()),
                (rollup_spenders, self.spenders),
                (rollup_day, self.day()),
                (rollup_spender_day, self.spender_days()),
                (redaction_rollup_day, self.redactions),
            ):
                merges.append((table, [(*key, *values) for key, values in sorted(sums.items())]))
        return merges

    def _add_redaction(self, row: SpanRow) -> None:
        kinds = orjson.loads(row.attributes).get(PII_KINDS)
        if not isinstance(kinds, list):
            return
        minute, _ = self._bucket(row.start_time)
        ids = (row.experiment or "", row.variant or "", row.scenario or "", row.environment or "")
        for kind in kinds:
            key = (self._coarser[minute][1], str(kind), *ids)
            texts = self.redactions.setdefault(key, [0])
            texts[0] += 1

    def _bucket(self, start: datetime) -> tuple[datetime, datetime]:
        """The minute and the hour ``start`` falls in."""
        fields = (start.year, start.month, start.day, start.hour, start.minute)
        buckets = self._buckets.get(fields)
        if buckets is None:
            minute = start.replace(second=0, microsecond=0)
            hour = minute.replace(minute=0)
            buckets = self._buckets[fields] = (minute, hour)
            self._coarser[minute] = (hour, hour.replace(hour=0))
        return buckets

    def _add_trace(self, row: SpanRow, is_call: bool) -> None:
        start = row.start_time
        end = row.end_time or start
        trace_id = row.trace_id
        trace = self.traces.get(trace_id)
        if trace is None:
            trace = self.traces[trace_id] = _NEW_TRACE.copy()
            trace[_T_ID], trace[_T_START], trace[_T_END] = trace_id, start, end
            trace[_T_SERVICE] = row.service
        else:
            if start < trace[_T_START]:
                trace[_T_START] = start
            if end > trace[_T_END]:
                trace[_T_END] = end
        trace[_T_SPANS] += 1
        if row.status == "error":
            trace[_T_ERRORS] += 1
        if row.parent_span_id is None:
            trace[_T_ROOT] = row.name
        for index, field in _T_IDS:
            if not trace[index]:
                trace[index] = getattr(row, field)
        if row.name in _OUTCOMES:
            _add_outcome(trace, row)
        if not is_call:
            return
        trace[_T_CALLS] += 1
        trace[_T_INPUT] += row.input_tokens or 0
        trace[_T_OUTPUT] += row.output_tokens or 0
        if row.cost_usd is not None:
            trace[_T_COST] = (trace[_T_COST] or 0.0) + row.cost_usd
        chat = row.operation == "chat"
        if trace[_T_MODEL] is None or (chat and trace_id not in self._chatted):
            trace[_T_PROVIDER] = row.provider
            trace[_T_MODEL] = row_model(row) or None
        if chat:
            self._chatted.add(trace_id)


_OUTCOMES = frozenset((TURN, FEEDBACK, ESCALATION))


def _add_outcome(trace: list[Any], row: SpanRow) -> None:
    """What a turn, a vote or a hand-off says about the trace's chat turn."""
    if row.name == ESCALATION:
        trace[_T_ESCALATED] += 1
        return
    attributes = orjson.loads(row.attributes)
    if row.name == TURN:
        trace[_T_TURNS] += 1
        score = attributes.get(attr.QUALITY_SCORE)
        if isinstance(score, int | float) and not isinstance(score, bool):
            trace[_T_QUALITY] = float(score)
        trace[_T_ANSWERED] = int(attributes.get(attr.TURN_STATUS) == "answered")
        return
    vote = attributes.get(attr.ANNOTATION_VALUE)
    if isinstance(vote, int | float) and vote:
        trace[_T_VOTE] = 1 if vote > 0 else -1


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
        _when(
            and_(call, c.cost_status == "unpriced"),
            func.coalesce(c.input_tokens, 0) + func.coalesce(c.output_tokens, 0),
        ).label("unpriced_tokens"),
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
        "environment": func.coalesce(c.environment, ""),
    }


def rollup_filter() -> ColumnElement[bool]:
    """Spans that count in rollups: calls and attempts."""
    return (_is_call() | spans.c.attempt.is_not(None)).self_group()


def redaction_query(dialect: StoreDialect, *where: Any) -> Select[Any]:
    """The redaction rollup's rows computed from the ``redact_pii`` spans matching ``where``."""
    kinds = array_items(dialect, spans.c.attributes, PII_KINDS)
    bucket = truncate_time(dialect, spans.c.start_time, "day", UtcDateTime())
    ids = [func.coalesce(spans.c[k], "").label(k) for k in REDACTION_DIMENSIONS[1:]]
    keys = [bucket.label("bucket"), kinds.c.value.label("kind"), *ids]
    return (
        select(*keys, func.count().label("texts"))
        .select_from(spans.join(kinds, true()))
        .where(spans.c.name == REDACTION, *where)
        .group_by(*keys)
    )


def spender_day_query(dialect: StoreDialect) -> Select[Any]:
    """The daily spender rollup's rows computed from the hourly one."""
    hours = rollup_spenders.c
    day = truncate_time(dialect, hours.bucket, "day", UtcDateTime()).label("bucket")
    keys = [day, hours.user_id, hours.conversation_id]
    sums = [func.sum(hours[m]).label(m) for m in SPENDER_DAY_SUMS]
    return select(*keys, *sums, func.max(hours.bucket).label("last_seen")).group_by(*keys)
