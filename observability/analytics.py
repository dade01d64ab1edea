"""The Analytics page's data: every chart for one time range and one set of filters.

q = AnalyticsQueries(engine)
q.periods(window, filters)             # per model, this range and the one before it
q.over_time(window, filters)
q.spenders(window, filters, Dimension.CONVERSATION, top=10)
q.outcomes(window, filters)            # turns, votes, escalations and PII redactions
q.options(window)                      # the values each filter can take

LLM calls are read from the rollups: the per-minute one for ranges up to six hours, else the
per-hour one, with the whole days of a longer range from the per-day one (a month is 30 rows a
key, not 720). A customer filter reads that customer's calls from the spans instead (the call
rollups are not kept per customer; one customer's spans are few and found through their traces).
Turns, votes and escalations are not calls: each trace's row in ``traces`` holds what its turn
came to (the writer keeps it), and the daily turn rollup sums those rows per day and key (kept
in step with them by the writer, see ``observability.store.turns``). PII redactions come from
a daily rollup of the ``redact_pii`` spans, breakdowns by customer and conversation from a daily
one of the spender rollup. Whatever a daily rollup cannot answer exactly (the ragged ends of a
range, a filter it is not keyed by) is read from the finer source, so every figure is the same
as scanning the spans and traces. No cache here: the page caches each answer for a few seconds.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import (
    BigInteger,
    BindParameter,
    ColumnElement,
    Engine,
    FromClause,
    Select,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
    union_all,
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
from observability.store.dialect import StoreDialect, TimeUnit, array_items, truncate_time
from observability.store.rollups import (
    PII_KINDS,
    REDACTION,
    call_metrics,
    dimension_columns,
    rollup_filter,
)
from observability.store.schema import (
    CALL_DIMENSIONS,
    DURATION_BINS,
    SPENDER_DAY_SUMS,
    SUM_METRICS,
    TTFC_BINS,
    TURN_METRICS,
    UtcDateTime,
    redaction_rollup_day,
    rollup_day,
    rollup_hour,
    rollup_minute,
    rollup_spender_day,
    rollup_spenders,
    spans,
    traces,
    turn_rollup_day,
)
from observability.store.turns import turn_sums

FLOAT_SUMS = ("cost_usd", "duration_ms_sum", "ttfc_ms_sum", "quality_sum")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
SPENDER_COLUMNS = ("user_id", "conversation_id", *SPENDER_DAY_SUMS)
HOURLY_UP_TO = timedelta(days=7)
QUALITY_HOURLY_UP_TO = timedelta(days=2)
UNITS: dict[Bucket, TimeUnit] = {Bucket.MINUTE: "minute", Bucket.HOUR: "hour", Bucket.DAY: "day"}
CURRENT, PREVIOUS = "current", "previous"
"""The range asked for and the one of the same length just before it."""
"""Over-time charts: minute points up to six hours, hour points up to seven days, then days."""
REST = "(rest)"
"""The row of a breakdown that sums everyone outside the top ones."""


def bucket_for(window: Window) -> Bucket:
    """The over-time grain that gives a readable number of points for ``window``."""
    length = window.end - window.start
    if length <= MINUTE_ROLLUP_UP_TO:
        return Bucket.MINUTE
    return Bucket.HOUR if length <= HOURLY_UP_TO else Bucket.DAY


def quality_bucket(window: Window) -> Bucket:
    """The grain of the quality chart: hours up to two days, then days (a few turns a minute
    make a jagged line of zeros and ones)."""
    return Bucket.HOUR if window.end - window.start <= QUALITY_HOURLY_UP_TO else Bucket.DAY


def previous(window: Window) -> Window:
    """The range of the same length just before ``window``."""
    return Window(window.start - (window.end - window.start), window.start)


@dataclass(frozen=True)
class Outcomes:
    """What the customers got, in a range (``period`` "current") and the one before it."""

    turns: pd.DataFrame
    """period, bucket (hours up to two days, then days), provider, model, turns, scored
    (turns with a quality score), quality_sum, resolved (answered with no hand-off),
    escalated, up and down (turns whose latest vote is a thumbs up or down)."""
    redactions: pd.DataFrame
    """period, kind, texts: how many texts had each kind of PII redacted."""


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
        calls = self._calls(whole, filters, cut=window.start, days=True)
        period = case(
            (calls.c.bucket >= window.start, literal("current")), else_=literal("previous")
        )
        keys = [period.label("period"), calls.c.provider, calls.c.model]
        sums = [_sum(calls.c[m]).label(m) for m in (*SUM_METRICS, *DURATION_BINS, *TTFC_BINS)]
        return self._frame(select(*keys, *sums).group_by(*keys))

    def over_time(self, window: Window, filters: AnalyticsFilters) -> pd.DataFrame:
        """Per time bucket (see ``bucket_for``), provider and model: every rollup sum.
        Buckets without calls are absent."""
        grain = bucket_for(window)
        calls = self._calls(window, filters, days=grain is Bucket.DAY)
        bucket = self._truncate(calls.c.bucket, grain)
        keys = [bucket.label("bucket"), calls.c.provider, calls.c.model]
        sums = [_sum(calls.c[m]).label(m) for m in SUM_METRICS]
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
        table = self._spender_rows(window, filters)
        key = table.c[by.value]
        sums = {
            "requests": _sum(table.c.requests),
            "tokens": _sum(table.c.input_tokens + table.c.output_tokens),
            "cost_usd": _sum(table.c.cost_usd),
            "unpriced": _sum(table.c.unpriced),
        }
        whole = select(*(v.label(n) for n, v in sums.items())).where(key != "").subquery("whole")
        query = (
            select(
                key.label(by.value),
                func.max(table.c.user_id).label("customer"),
                *(value.label(name) for name, value in sums.items()),
                func.max(table.c.last_seen).label("last_seen"),
                *(func.max(whole.c[name]).label(f"all_{name}") for name in sums),
            )
            .select_from(table.join(whole, true()))
            .where(key != "")
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
        """Chat turns matching ``filters`` in ``window`` and the period before it, and PII
        redactions in ``window`` (see ``Outcomes``). What each trace's turn came to (its
        quality, status, hand-offs and latest vote) is kept in its ``traces`` row; a turn's
        provider and model are its trace's first chat call's. Whole days come from the daily
        turn rollup when the chart is by day and no customer is chosen, the rest from
        ``traces`` itself: the same sums either way."""
        grain, before, t = quality_bucket(window), previous(window), traces.c
        periods = {PREVIOUS: (before.start, before.end), CURRENT: (window.start, window.end)}
        days = {p: _whole_days(*ends) for p, ends in periods.items()}
        if (
            grain is not Bucket.DAY
            or filters.customer is not None
            or all(first >= stop for first, stop in days.values())
        ):
            period = self._period(t.start_time, window).label("period")
            where = [t.start_time >= before.start, t.start_time < window.end]
            query = self._turn_traces(period, grain, [*where, *_trace_filters(filters)])
            return Outcomes(self._frame(query), self._redactions(window, filters))
        parts = []
        for name, (start, end) in periods.items():
            first, stop = days[name]
            where = [t.start_time >= start, t.start_time < end, *_trace_filters(filters)]
            if first < stop:
                where[:2] = [_ends(t.start_time, start, end, first, stop)]
                parts.append(self._turn_days(name, first, stop, filters))
            parts.append(self._turn_traces(literal(name).label("period"), grain, where))
        turns = union_all(*parts).subquery("turns")
        keys = [turns.c.period, turns.c.bucket, turns.c.provider, turns.c.model]
        sums = [_sum(turns.c[m]).label(m) for m in TURN_METRICS]
        query = select(*keys, *sums).group_by(*keys).having(func.sum(turns.c.turns) > 0)
        return Outcomes(self._frame(query), self._redactions(window, filters))

    def _turn_days(
        self, period: str, first: datetime, stop: datetime, filters: AnalyticsFilters
    ) -> Select[Any]:
        """The turn rollup's rows of the days [first, stop) matching ``filters``."""
        r = turn_rollup_day.c
        return select(
            literal(period).label("period"),
            r.bucket,
            r.provider,
            r.model,
            *(r[m] for m in TURN_METRICS),
        ).where(
            r.bucket >= first,
            r.bucket < stop,
            *(r[k] == v for k, v in filters.call_keys().items()),
        )

    def _turn_traces(self, period: Any, grain: Bucket, where: list[Any]) -> Select[Any]:
        """The turn figures of the ``traces`` rows matching ``where``, per ``period`` (a
        constant, or an expression it is grouped by too) and ``grain``."""
        t = traces.c
        keys = [
            truncate_time(self._dialect, t.start_time, UNITS[grain], UtcDateTime()).label("bucket"),
            func.coalesce(t.provider, "").label("provider"),
            func.coalesce(t.model, "").label("model"),
        ]
        grouped = [] if isinstance(period.element, BindParameter) else [period]
        return (
            select(period, *keys, *turn_sums()).where(t.turns > 0, *where).group_by(*grouped, *keys)
        )

    def _redactions(self, window: Window, filters: AnalyticsFilters) -> pd.DataFrame:
        """period ("current"), kind, texts: how many texts had each kind of PII redacted.
        Whole days come from the daily redaction rollup unless a filter needs each span's
        trace (provider, model) or customer; the rest from the ``redact_pii`` spans."""
        redaction, tr = spans.alias("redaction"), traces.c
        keys = filters.call_keys()
        first, stop = _whole_days(window.start, window.end)
        parts, where = [], [*_in(redaction, window), *_own_filters(redaction, filters)]
        column = redaction.c.start_time
        by_trace = filters.customer is not None or "provider" in keys or "model" in keys
        if not by_trace and first < stop:
            r = redaction_rollup_day.c
            whole = [r.bucket >= first, r.bucket < stop, *(r[k] == v for k, v in keys.items())]
            parts.append(select(r.kind, r.texts).where(*whole))
            where[:2] = [_ends(column, window.start, window.end, first, stop)]
        kinds = array_items(self._dialect, redaction.c.attributes, PII_KINDS)
        kind = kinds.c.value.label("kind")
        parts.append(
            select(kind, func.count().label("texts"))
            .select_from(
                redaction.outerjoin(traces, tr.trace_id == redaction.c.trace_id).join(kinds, true())
            )
            .where(redaction.c.name == literal(REDACTION, literal_execute=True), *where)
            .group_by(kind)
        )
        found = union_all(*parts).subquery("redactions")
        query = select(
            literal(CURRENT).label("period"), found.c.kind, _sum(found.c.texts).label("texts")
        ).group_by(found.c.kind)
        return self._frame(query)

    def _period(self, column: Any, window: Window) -> Any:
        return case((column >= window.start, literal(CURRENT)), else_=literal(PREVIOUS))

    def options(self, window: Window) -> dict[str, list[str]]:
        """The values each filter can take in ``window`` (customers: the 500 that cost most)."""
        calls = self._calls(window, AnalyticsFilters(), days=True)
        dims = [calls.c[k] for k in CALL_DIMENSIONS]
        combos = self._frame(select(*dims).group_by(*dims))
        found = {k: sorted(v for v in combos[k].unique() if v) for k in CALL_DIMENSIONS}
        people = self._spender_rows(window, AnalyticsFilters()).c
        customers = self._frame(
            select(people.user_id)
            .where(people.user_id != "")
            .group_by(people.user_id)
            .order_by(func.sum(people.cost_usd).desc(), people.user_id)
            .limit(500)
        )
        return found | {"customer": sorted(customers["user_id"])}

    def _calls(
        self,
        window: Window,
        filters: AnalyticsFilters,
        *,
        cut: datetime | None = None,
        days: bool = False,
    ) -> FromClause:
        """The call rollup rows of ``window`` matching ``filters``, as a subquery with the
        rollup's columns; with a customer, the same rows summed from that customer's spans.

        Hour rows are those whose hour starts in the range (its start snapped down to the
        hour); with ``days``, the days whose every hour is one of them come from the daily
        rollup instead (a caller that tells rows apart by bucket names the time where it
        does, ``cut``, and no day straddles it): the same sums from far fewer rows."""
        short = window.end - window.start <= MINUTE_ROLLUP_UP_TO
        table = rollup_minute if short else rollup_hour
        grain = Bucket.MINUTE if short else Bucket.HOUR
        if filters.customer is None:
            keys = [table.c[k] == v for k, v in filters.call_keys().items()]
            if short or not days:
                return select(table).where(*_bucket_in(table.c.bucket, window, grain), *keys)\
                    .subquery("calls")  # fmt: skip
            return self._hours_and_days(window, filters, cut)
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

    def _spender_rows(self, window: Window, filters: AnalyticsFilters) -> FromClause:
        """The spender rollup's hour rows of ``window`` matching ``filters`` (customer,
        conversation, the sums and ``last_seen``, their hour); without a filter on calls,
        whole days come from the daily spender rollup instead."""
        hours = rollup_spenders.c
        where = _bucket_in(hours.bucket, window, Bucket.HOUR)
        low = _floor(window.start, HOUR)
        where += [hours[k] == v for k, v in filters.call_keys().items()]
        parts = []
        first, stop = _whole_days(low, _ceil(window.end, HOUR))
        if not filters.call_keys() and first < stop:
            days = rollup_spender_day.c
            whole = [days.bucket >= first, days.bucket < stop]
            if filters.customer is not None:
                whole.append(days.user_id == filters.customer)
            parts.append(select(*(days[c] for c in SPENDER_COLUMNS), days.last_seen).where(*whole))
            where[:2] = [_ends(hours.bucket, low, window.end, first, stop)]
        if filters.customer is not None:
            where.append(hours.user_id == filters.customer)
        columns = [*(hours[c] for c in SPENDER_COLUMNS), hours.bucket.label("last_seen")]
        parts.append(select(*columns).where(*where))
        return union_all(*parts).subquery("spent")

    def _hours_and_days(
        self, window: Window, filters: AnalyticsFilters, cut: datetime | None
    ) -> FromClause:
        """The hour rows of ``window`` as whole days where they can be (see ``_calls``)."""
        bounds = [_floor(window.start, HOUR), *([cut] if cut is not None else []), window.end]
        days = [_whole_days(low, _ceil(high, HOUR)) for low, high in itertools.pairwise(bounds)]
        hour, day = rollup_hour.c, rollup_day.c
        if all(first >= stop for first, stop in days):
            return self._calls(window, filters)
        parts = []
        for (low, high), (first, stop) in zip(itertools.pairwise(bounds), days, strict=True):
            where = [hour.bucket >= low, hour.bucket < high]
            if first < stop:
                where = [_ends(hour.bucket, low, high, first, stop)]
                whole = [day.bucket >= first, day.bucket < stop]
                whole += [day[k] == v for k, v in filters.call_keys().items()]
                parts.append(select(rollup_day).where(*whole))
            where += [hour[k] == v for k, v in filters.call_keys().items()]
            parts.append(select(rollup_hour).where(*where))
        return union_all(*parts).subquery("calls")

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


def _sum(value: Any) -> Any:
    """``sum(value)``: counts as ``bigint`` (PostgreSQL sums ``bigint`` as ``numeric``, which
    arrives as ``Decimal``), money and milliseconds in double precision."""
    name = getattr(value, "name", "")
    if name in FLOAT_SUMS:
        return func.sum(value)
    return cast(func.sum(value), BigInteger())


def _bucket_in(column: Any, window: Window, grain: Bucket) -> list[ColumnElement[bool]]:
    """``window`` on a bucket column of ``grain``: its start snapped down to the grain."""
    start = window.start.astimezone(UTC).replace(second=0, microsecond=0)
    if grain is Bucket.HOUR:
        start = start.replace(minute=0)
    return [column >= start, column < window.end]


def _floor(moment: datetime, unit: timedelta) -> datetime:
    """``moment`` rounded down to a whole ``unit`` (an hour or a day) in UTC."""
    return EPOCH + (moment - EPOCH) // unit * unit


def _ceil(moment: datetime, unit: timedelta) -> datetime:
    """``moment`` rounded up to a whole ``unit`` (an hour or a day) in UTC."""
    return EPOCH - (EPOCH - moment) // unit * unit


def _whole_days(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The UTC days [first, stop) that lie wholly within [start, end); none if first >= stop."""
    return _ceil(start, DAY), _floor(end, DAY)


def _ends(column: Any, low: datetime, high: datetime, first: datetime, stop: datetime) -> Any:
    """[low, high) without the whole days [first, stop), as two ranges (each one index range:
    SQLite reads a filter on the whole range row by row)."""
    return or_(and_(column >= low, column < first), and_(column >= stop, column < high))


def _in(table: Any, window: Window) -> list[ColumnElement[bool]]:
    return [table.c.start_time >= window.start, table.c.start_time < window.end]


def _count(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _own_filters(table: Any, filters: AnalyticsFilters) -> list[ColumnElement[bool]]:
    """``filters`` on a span that is not a call: its own ids, its trace's provider and model."""
    conditions = []
    for key, value in filters.call_keys().items():
        column = traces.c[key] if key in ("provider", "model") else table.c[key]
        conditions.append(func.coalesce(column, "") == value)
    if filters.customer is not None:
        conditions.append(table.c.user_id == filters.customer)
    return conditions


def _trace_filters(filters: AnalyticsFilters) -> list[ColumnElement[bool]]:
    """``filters`` on ``traces`` rows (ids of their first span that has them)."""
    t = traces.c
    conditions = [func.coalesce(t[k], "") == v for k, v in filters.call_keys().items()]
    if filters.customer is not None:
        conditions.append(t.user_id == filters.customer)
    return conditions
