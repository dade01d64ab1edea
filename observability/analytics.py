"""The Analytics page's data: every chart for one time range and one set of filters.

q = AnalyticsQueries(engine)
q.periods(window, filters)             # per model, this range and the one before it
q.over_time(window, filters)
q.spenders(window, filters, Dimension.CONVERSATION, top=10)
q.outcomes(window, filters)            # turns, votes, escalations and PII redactions
q.options(window)                      # the values each filter can take

LLM calls are read from the rollups: the per-minute one for ranges up to six hours, else the
per-hour one. A customer filter reads that customer's calls from the spans instead (the call
rollups are not kept per customer; one customer's spans are few and found through their traces).
Turns, votes, escalations and redactions are not calls: they are read from their spans by name.
No cache here: the page caches each answer for a few seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

import numpy as np
import orjson
import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Engine,
    FromClause,
    Select,
    case,
    func,
    literal,
    literal_column,
    select,
)

from observability.queries import (
    MINUTE_ROLLUP_UP_TO,
    AnalyticsFilters,
    Bucket,
    Dimension,
    Window,
    answering,
    histogram_percentile,
)
from observability.store.dialect import StoreDialect, truncate_time
from observability.store.rollups import call_metrics, dimension_columns, rollup_filter
from observability.store.schema import (
    CALL_DIMENSIONS,
    DURATION_BINS,
    SUM_METRICS,
    TTFC_BINS,
    UtcDateTime,
    rollup_hour,
    rollup_minute,
    rollup_spenders,
    spans,
    traces,
)

HOURLY_UP_TO = timedelta(days=7)
"""Over-time charts: minute points up to six hours, hour points up to seven days, then days."""
REST = "(rest)"
"""The row of a breakdown that sums everyone outside the top ones."""
TURN, FEEDBACK, ESCALATION, REDACTION = (
    "turn",
    "annotation feedback",
    "summarise_escalation",
    "redact_pii",
)
"""Span names: a chat turn, a customer's vote on an answer, a hand-off to a human agent and a
PII redaction (see ``observability.annotations`` and the engine in ``core``)."""
QUALITY_SCORE, TURN_STATUS, ANSWERED = (
    "observatory.quality.score",
    "observatory.turn.status",
    "answered",
)
VOTE, VOTED_AT = "observatory.annotation.value", "observatory.annotation.made_at"
PII_KINDS = "observatory.pii.kinds"


def bucket_for(window: Window) -> Bucket:
    """The over-time grain that gives a readable number of points for ``window``."""
    length = window.end - window.start
    if length <= MINUTE_ROLLUP_UP_TO:
        return Bucket.MINUTE
    return Bucket.HOUR if length <= HOURLY_UP_TO else Bucket.DAY


def previous(window: Window) -> Window:
    """The range of the same length just before ``window``."""
    return Window(window.start - (window.end - window.start), window.start)


@dataclass(frozen=True)
class Outcomes:
    """What the customers got: one row per turn and one per redaction."""

    turns: pd.DataFrame
    """time, provider, model, quality (NaN if unscored), answered, escalated, vote (+1, -1 or
    0 for none: the latest vote on the answer)."""
    redactions: pd.DataFrame
    """time, kind: one row per kind redacted from one text."""


class AnalyticsQueries:
    """The Analytics page's queries over one trace store."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        sqlite = engine.dialect.name == "sqlite"
        self._dialect = StoreDialect.SQLITE if sqlite else StoreDialect.POSTGRESQL

    def periods(self, window: Window, filters: AnalyticsFilters) -> pd.DataFrame:
        """Per ``period`` ("current", "previous": the range of the same length before) and
        provider and model: every rollup sum, and the latency and time-to-first-chunk
        histograms. The KPI tiles and the model table are made from it."""
        whole = Window(previous(window).start, window.end)
        calls = self._calls(whole, filters)
        period = case(
            (calls.c.bucket >= window.start, literal("current")), else_=literal("previous")
        )
        keys = [period.label("period"), calls.c.provider, calls.c.model]
        sums = [func.sum(calls.c[m]).label(m) for m in (*SUM_METRICS, *DURATION_BINS, *TTFC_BINS)]
        return self._frame(select(*keys, *sums).group_by(*keys))

    def over_time(self, window: Window, filters: AnalyticsFilters) -> pd.DataFrame:
        """Per time bucket (see ``bucket_for``), provider and model: every rollup sum.
        Buckets without calls are absent."""
        calls = self._calls(window, filters)
        bucket = self._truncate(calls.c.bucket, bucket_for(window))
        keys = [bucket.label("bucket"), calls.c.provider, calls.c.model]
        sums = [func.sum(calls.c[m]).label(m) for m in SUM_METRICS]
        frame = self._frame(select(*keys, *sums).group_by(*keys).order_by(*keys))
        frame["bucket"] = pd.to_datetime(frame["bucket"], utc=True)
        return frame

    def spenders(
        self, window: Window, filters: AnalyticsFilters, by: Dimension, *, top: int = 10
    ) -> pd.DataFrame:
        """The ``top`` customers or conversations by cost, then one ``REST`` row summing the
        others: [by], customer (a conversation's), requests, tokens, cost_usd, unpriced,
        last_seen (the last hour with a call). Ties in cost are ranked by requests."""
        if not by.per_person:
            raise ValueError("Breakdowns are by customer or by conversation.")
        table = rollup_spenders
        key = table.c[by.value]
        where = [*_bucket_in(table.c.bucket, window, Bucket.HOUR), key != ""]
        where += [table.c[k] == v for k, v in filters.call_keys().items()]
        if filters.customer is not None:
            where.append(table.c.user_id == filters.customer)
        sums = {
            "requests": func.sum(table.c.requests),
            "tokens": func.sum(table.c.input_tokens + table.c.output_tokens),
            "cost_usd": func.sum(table.c.cost_usd),
            "unpriced": func.sum(table.c.unpriced),
        }
        query = (
            select(
                key.label(by.value),
                func.max(table.c.user_id).label("customer"),
                *(value.label(name) for name, value in sums.items()),
                func.max(table.c.bucket).label("last_seen"),
                *(func.sum(value).over().label(f"all_{name}") for name, value in sums.items()),
            )
            .where(*where)
            .group_by(key)
            .order_by(sums["cost_usd"].desc(), sums["requests"].desc(), key)
            .limit(top)
        )
        frame = self._frame(query)
        totals = frame.filter(like="all_").head(1)
        frame = frame.drop(columns=list(totals.columns))
        if totals.empty:
            return frame
        rest = {name: totals[f"all_{name}"].iloc[0] - frame[name].sum() for name in sums}
        if rest["requests"] <= 0:
            return frame
        rest_row = pd.DataFrame([{by.value: REST, "customer": None, **rest}])
        return pd.concat([frame, rest_row], ignore_index=True)

    def outcomes(self, window: Window, filters: AnalyticsFilters) -> Outcomes:
        """Turns with their quality score, status, escalation and latest vote, and PII
        redactions by kind, that match ``filters`` (a vote and an escalation count for the
        turn whose trace they are in; provider and model are the trace's first chat call's)."""
        s, t = spans.c, traces.c
        names = (TURN, FEEDBACK, ESCALATION, REDACTION)
        query = (
            select(
                s.trace_id, s.name, s.start_time, s.experiment, s.variant, s.scenario,
                s.environment, s.user_id, s.attributes,
                func.coalesce(t.provider, "").label("provider"),
                func.coalesce(t.model, "").label("model"),
            )
            .select_from(spans.outerjoin(traces, t.trace_id == s.trace_id))
            .where(s.name.in_(names), s.start_time >= window.start, s.start_time < window.end)
        )  # fmt: skip
        rows = self._frame(query)
        rows["start_time"] = pd.to_datetime(rows["start_time"], utc=True)
        attributes = [orjson.loads(a) if a else {} for a in rows["attributes"]]
        rows = rows.assign(attrs=attributes).drop(columns=["attributes"])
        matching = _matches(rows, filters)
        turns = rows[(rows["name"] == TURN) & matching]
        return Outcomes(
            _turns(turns, rows), _redactions(rows[(rows["name"] == REDACTION) & matching])
        )

    def options(self, window: Window) -> dict[str, list[str]]:
        """The values each filter can take in ``window`` (customers: the 500 that cost most)."""
        table = rollup_hour
        dims = [table.c[k] for k in CALL_DIMENSIONS]
        combos = self._frame(
            select(*dims).where(*_bucket_in(table.c.bucket, window, Bucket.HOUR)).group_by(*dims)
        )
        found = {k: sorted(v for v in combos[k].unique() if v) for k in CALL_DIMENSIONS}
        people = rollup_spenders.c
        customers = self._frame(
            select(people.user_id)
            .where(*_bucket_in(people.bucket, window, Bucket.HOUR), people.user_id != "")
            .group_by(people.user_id)
            .order_by(func.sum(people.cost_usd).desc(), people.user_id)
            .limit(500)
        )
        return found | {"customer": sorted(customers["user_id"])}

    def _calls(self, window: Window, filters: AnalyticsFilters) -> FromClause:
        """The call rollup rows of ``window`` matching ``filters``, as a subquery with the
        rollup's columns; with a customer, the same rows summed from that customer's spans."""
        short = window.end - window.start <= MINUTE_ROLLUP_UP_TO
        table = rollup_minute if short else rollup_hour
        grain = Bucket.MINUTE if short else Bucket.HOUR
        if filters.customer is None:
            where = [*_bucket_in(table.c.bucket, window, grain)]
            where += [table.c[k] == v for k, v in filters.call_keys().items()]
            return select(table).where(*where).subquery("calls")
        dimensions = dimension_columns()
        bucket = truncate_time(self._dialect, spans.c.start_time, grain.value, UtcDateTime())
        columns = [bucket.label("bucket"), *(dimensions[k].label(k) for k in CALL_DIMENSIONS)]
        customer_traces = select(traces.c.trace_id).where(
            traces.c.user_id == filters.customer,
            traces.c.start_time < window.end,
            traces.c.end_time >= window.start,
        )
        return (
            select(*columns, *call_metrics(histograms=True))
            .where(
                rollup_filter(),
                *_bucket_in(spans.c.start_time, window, grain),
                spans.c.trace_id.in_(customer_traces),
                spans.c.user_id == filters.customer,
                *(dimensions[k] == v for k, v in filters.call_keys().items()),
            )
            .group_by(*(literal_column(c.name) for c in columns))
            .subquery("calls")
        )

    def _truncate(self, column: ColumnElement[Any], bucket: Bucket) -> ColumnElement[Any]:
        if bucket is Bucket.DAY:
            return truncate_time(self._dialect, column, "day", UtcDateTime())
        return column

    def _frame(self, query: Select[Any]) -> pd.DataFrame:
        with answering(), self._engine.connect() as conn:
            result = conn.execute(query)
            return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def latency(frame: pd.DataFrame) -> dict[str, float]:
    """p50/p95/p99 of duration and time to first chunk (ms) over the rows of ``frame`` (a
    ``periods`` frame or part of it); NaN without data."""
    durations = frame[list(DURATION_BINS)].to_numpy(dtype=float).sum(axis=0)
    firsts = frame[list(TTFC_BINS)].to_numpy(dtype=float).sum(axis=0)
    found = {f"p{q}_ms": histogram_percentile(durations, q / 100) for q in (50, 95, 99)}
    return found | {f"ttfc_p{q}_ms": histogram_percentile(firsts, q / 100) for q in (50, 95)}


def _bucket_in(column: Any, window: Window, grain: Bucket) -> list[ColumnElement[bool]]:
    """``window`` on a bucket column of ``grain``: its start snapped down to the grain."""
    start = window.start.astimezone(UTC).replace(second=0, microsecond=0)
    if grain is Bucket.HOUR:
        start = start.replace(minute=0)
    return [column >= start, column < window.end]


def _matches(rows: pd.DataFrame, filters: AnalyticsFilters) -> pd.Series:
    """Rows whose own ids (and their trace's provider and model) match ``filters``."""
    matching = pd.Series(True, index=rows.index)
    given = filters.call_keys() | ({"user_id": filters.customer} if filters.customer else {})
    for key, value in given.items():
        matching &= rows[key].fillna("") == value
    return matching


def _turns(turns: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    votes = rows[rows["name"] == FEEDBACK]
    latest: dict[str, tuple[str, float]] = {}
    for trace_id, attrs in zip(votes["trace_id"], votes["attrs"], strict=True):
        made, value = str(attrs.get(VOTED_AT, "")), float(attrs.get(VOTE, 0) or 0)
        if trace_id not in latest or made >= latest[trace_id][0]:
            latest[trace_id] = (made, value)
    escalated = set(rows.loc[rows["name"] == ESCALATION, "trace_id"])
    quality = [a.get(QUALITY_SCORE) for a in turns["attrs"]]
    return pd.DataFrame(
        {
            "time": turns["start_time"],
            "provider": turns["provider"],
            "model": turns["model"],
            "quality": pd.to_numeric(pd.Series(quality, index=turns.index), errors="coerce"),
            "answered": [a.get(TURN_STATUS) == ANSWERED for a in turns["attrs"]],
            "escalated": turns["trace_id"].isin(escalated),
            "vote": [np.sign(latest.get(t, ("", 0.0))[1]) for t in turns["trace_id"]],
        }
    ).reset_index(drop=True)


def _redactions(found: pd.DataFrame) -> pd.DataFrame:
    kinds = [
        (time, str(kind))
        for time, attrs in zip(found["start_time"], found["attrs"], strict=True)
        for kind in attrs.get(PII_KINDS) or ()
    ]
    return pd.DataFrame(kinds, columns=["time", "kind"])
