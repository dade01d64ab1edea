"""Analytics over the trace store, as pandas DataFrames; the same answers on SQLite,
PostgreSQL and TimescaleDB.

q = TraceQueries(engine)
q.usage_over_time(Window.last(timedelta(days=7)), Bucket.HOUR, Dimension.MODEL)
q.latency_percentiles(window, Dimension.PROVIDER)      # p50/p95/p99 and time to first chunk
q.reliability(window); q.top_spenders(window, Dimension.USER, limit=10); q.summary(window)
q.list_traces(TraceFilters(provider="openai", text="refund"), page=1, page_size=50)
q.trace_spans(trace_id)                                 # every span, with depth and offset

Aggregates read the rollups (whole minutes or hours: a window's edges snap outward to the
rollup's grain); percentiles come from a fixed latency histogram (four bins per doubling,
linear inside a bin: within ±10 % of the exact value). Each ``*_select`` method returns the
composable SQLAlchemy ``Select`` its DataFrame method runs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import partial
from typing import Any, assert_never

import numpy as np
import pandas as pd
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    CompoundSelect,
    Engine,
    Float,
    Integer,
    Select,
    Table,
    Text,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.expression import Executable

from observability.store.database import TEXT_INDEX, TEXT_INDEX_EXPRESSION
from observability.store.day_indexes import day_index_arms, indexed_days
from observability.store.dialect import StoreDialect, truncate_time
from observability.store.rollups import call_metrics, dimension_columns, rollup_filter
from observability.store.schema import (
    DURATION_BINS,
    LATENCY_BOUNDS_MS,
    TTFC_BINS,
    UtcDateTime,
    rollup_hour,
    rollup_minute,
    rollup_spenders,
    spans,
    traces,
)
from observability.store.sqlite_text import indexed_upto, text_table_arms
from observability.store.timescale import is_timescale_store
from observability.store.timescale_text import days_to_search, has_search_tables, search_arms

MINUTE_ROLLUP_UP_TO = timedelta(hours=6)
"""Windows up to this long read the per-minute rollup; longer ones the per-hour rollup."""
WORK_MEM = "64MB"
"""PostgreSQL memory per sort or hash of one query: the spender rollup's 30-day groups fit,
where the 4 MB default spills them to disk."""
TOP_SERIES = 10
"""Usage over time by user or conversation: how many spenders get a series of their own."""
OTHERS = "(others)"
"""The series that sums every user or conversation outside the top ones."""
NEWEST_FIRST = timedelta(days=1)
"""TimescaleDB: a trace list filtered on its spans is first asked of this newest part of its
window (see ``TraceQueries._newest_first``)."""
INDEXED_TEXT_MATCHES = 2_000
"""Text search with trigram indexes: up to this many matching spans are looked up through them."""
DAYS_RECHECK_S = 60.0
"""How often the queries look for text indexes built since (one a day, by the store writer)."""
CHAT_OPERATIONS = ("chat", "text_completion")
USAGE = (
    *("requests", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens"),
    *("cost_usd", "unpriced", "unpriced_tokens"),
)


class Bucket(StrEnum):
    """Time bucket of an over-time series."""

    MINUTE = "minute"
    HOUR = "hour"
    DAY = "day"


class Dimension(StrEnum):
    """What to group by."""

    PROVIDER = "provider"
    MODEL = "model"
    EXPERIMENT = "experiment"
    VARIANT = "variant"
    SCENARIO = "scenario"
    USER = "user_id"
    CONVERSATION = "conversation_id"

    @property
    def per_person(self) -> bool:
        """User and conversation live in their own rollup (without latency histograms)."""
        return self in (Dimension.USER, Dimension.CONVERSATION)


@dataclass(frozen=True)
class Window:
    """A time range ``[start, end)`` in UTC."""

    start: datetime
    end: datetime

    @classmethod
    def last(cls, span: timedelta, *, now: datetime | None = None) -> Window:
        """The ``span`` up to ``now`` (default: the current time)."""
        end = now or datetime.now(UTC)
        return cls(end - span, end)


@dataclass(frozen=True)
class TraceFilters:
    """Trace-list filters; ``None`` means any. ``text`` searches span names and attributes."""

    start: datetime | None = None
    end: datetime | None = None
    provider: str | None = None
    model: str | None = None
    status: str | None = None
    """``"error"`` (any span failed) or ``"ok"``."""
    conversation_id: str | None = None
    user_id: str | None = None
    min_cost_usd: float | None = None
    text: str | None = None
    hide_roots: tuple[str, ...] = ()
    """Leave out traces whose root span name starts with one of these (e.g. ``"retrieval "``)."""


@dataclass(frozen=True)
class AnalyticsFilters:
    """The Analytics page's filters, shared by every chart and by the export; ``None`` means
    any. ``customer`` is a user id; ``environment`` is ``deployment.environment.name``
    (``"demo"`` for the demo history); ``model`` is the requested model (an Azure deployment)."""

    provider: str | None = None
    model: str | None = None
    experiment: str | None = None
    variant: str | None = None
    scenario: str | None = None
    customer: str | None = None
    environment: str | None = None

    def call_keys(self) -> dict[str, str]:
        """The filters on rollup keys of LLM calls, by rollup column."""
        given = {
            "provider": self.provider,
            "model": self.model,
            "experiment": self.experiment,
            "variant": self.variant,
            "scenario": self.scenario,
            "environment": self.environment,
        }
        return {key: value for key, value in given.items() if value is not None}


@dataclass(frozen=True)
class TracePage:
    """One page of the trace list, newest first."""

    traces: pd.DataFrame
    page: int
    page_size: int
    has_more: bool


class QueryError(ValueError):
    """A query was asked for something it cannot answer; the message says what to change."""


class TraceStoreUnavailable(RuntimeError):
    """The trace store did not answer or refused the query; the message is one sentence."""


@contextmanager
def answering() -> Iterator[None]:
    """Turn a database failure into ``TraceStoreUnavailable``, one sentence for a page."""
    try:
        yield
    except DBAPIError as exc:
        reason = type(getattr(exc, "orig", None) or exc).__name__
        raise TraceStoreUnavailable(
            f"The trace store did not answer ({reason}); the app keeps tracing and writes the "
            "spans once it is back — try again in a moment."
        ) from exc


class TraceQueries:
    """The analytics queries over one trace store."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        sqlite = engine.dialect.name == "sqlite"
        self._dialect = StoreDialect.SQLITE if sqlite else StoreDialect.POSTGRESQL
        self._text_index: bool | None = None
        self._timescale: bool | None = None
        self._search_tables = False  # TimescaleDB: the text copy's tables, once found, stay
        self._days: tuple[float, list[date]] = (-DAYS_RECHECK_S, [])

    @property
    def engine(self) -> Engine:
        """The trace store these queries read (the insights read it too)."""
        return self._engine

    def usage_select(
        self,
        window: Window,
        bucket: Bucket,
        group_by: Dimension | None = None,
        *,
        top: int = TOP_SERIES,
    ) -> Select[Any]:
        """Requests, tokens and cost per ``bucket`` (and group). Grouped by user or
        conversation, the ``top`` that cost most in the window get a series each and the rest
        share one, ``OTHERS`` (a chart of thousands of series would say nothing)."""
        if group_by is not None and group_by.per_person:
            return self._usage_per_person(window, bucket, group_by, top)
        table = rollup_minute if bucket is Bucket.MINUTE else rollup_hour
        time: ColumnElement[Any] = table.c.bucket
        if bucket is Bucket.DAY:
            time = truncate_time(self._dialect, table.c.bucket, "day", UtcDateTime())
        groups = [time.label("bucket"), *([table.c[group_by.value]] if group_by else [])]
        grain = Bucket.MINUTE if table is rollup_minute else Bucket.HOUR
        return (
            select(*groups, *(func.sum(table.c[m]).label(m) for m in USAGE))
            .where(*_in_window(table.c.bucket, window, grain))
            .group_by(*groups)
            .order_by(*groups)
        )

    def usage_over_time(
        self,
        window: Window,
        bucket: Bucket = Bucket.HOUR,
        group_by: Dimension | None = None,
        *,
        top: int = TOP_SERIES,
    ) -> pd.DataFrame:
        """Columns: bucket (UTC), [group], requests, input/output/cache-read/cache-write
        tokens, cost_usd, unpriced (calls without a price) and unpriced_tokens (their input and
        output tokens). ``cost_usd`` leaves unpriced calls out, and is NaN where every call
        was unpriced (never $0). By user or conversation: the ``top`` spenders, then
        ``OTHERS``."""
        frame = self._frame(self.usage_select(window, bucket, group_by, top=top))
        frame["bucket"] = pd.to_datetime(frame["bucket"], utc=True)
        all_unpriced = (frame["unpriced"] >= frame["requests"]) & (frame["requests"] > 0)
        frame["cost_usd"] = frame["cost_usd"].astype(float).mask(all_unpriced)
        return frame

    def latency_percentiles(
        self, window: Window, group_by: Dimension | None = None
    ) -> pd.DataFrame:
        """Columns: [group], requests, p50/p95/p99_ms, ttfc_p50/p95/p99_ms (NaN without data)."""
        table = self._call_rollup(window, group_by)
        bins = [func.sum(table.c[b]).label(b) for b in (*DURATION_BINS, *TTFC_BINS)]
        frame = self._grouped(table, window, group_by, ["requests"], bins)
        for prefix, names in (("", DURATION_BINS), ("ttfc_", TTFC_BINS)):
            counts = frame[list(names)].to_numpy(dtype=float)
            for q in (50, 95, 99):
                frame[f"{prefix}p{q}_ms"] = [histogram_percentile(row, q / 100) for row in counts]
        return frame.drop(columns=[*DURATION_BINS, *TTFC_BINS])

    def reliability(self, window: Window, group_by: Dimension | None = None) -> pd.DataFrame:
        """Columns: [group], requests, errors, error_rate, attempts, retries, retry_rate,
        fallbacks, fallback_rate (rates are shares of requests or attempts; NaN when none)."""
        table = self._call_rollup(window, group_by)
        sums = ["requests", "errors", "attempts", "retries", "fallbacks"]
        frame = self._grouped(table, window, group_by, sums, [])
        frame["error_rate"] = _share(frame["errors"], frame["requests"])
        frame["retry_rate"] = _share(frame["retries"], frame["attempts"])
        frame["fallback_rate"] = _share(frame["fallbacks"], frame["attempts"])
        return frame

    def top_spenders(
        self, window: Window, by: Dimension = Dimension.USER, limit: int = 10
    ) -> pd.DataFrame:
        """The ``limit`` users or conversations that cost most: [by], cost_usd, requests, tokens."""
        if not by.per_person:
            raise QueryError("top_spenders ranks users or conversations; pick one of those.")
        table, key = rollup_spenders, rollup_spenders.c[by.value]
        cost = _person_sum(table.c.cost_usd)
        query = (
            select(key, cost.label("cost_usd"),
                   *(_person_sum(table.c[m]).label(m) for m in USAGE if m != "cost_usd"))
            .where(*_in_window(table.c.bucket, window, Bucket.HOUR), key != "")
            .group_by(key)
            .order_by(cost.desc(), key)
            .limit(limit)
        )  # fmt: skip
        return self._frame(query)

    def summary(self, window: Window) -> pd.DataFrame:
        """One row of KPI totals: requests, errors, error_rate, tokens, cost_usd, unpriced,
        p95_ms, users, conversations."""
        table = self._call_rollup(window, None)
        sums = ["requests", "errors", "unpriced", "input_tokens", "output_tokens", "cost_usd"]
        bins = [func.sum(table.c[b]).label(b) for b in DURATION_BINS]
        frame = self._grouped(table, window, None, sums, bins)
        counts = frame[list(DURATION_BINS)].to_numpy(dtype=float)
        frame = frame.drop(columns=list(DURATION_BINS))
        frame["p95_ms"] = [histogram_percentile(row, 0.95) for row in counts]
        frame["error_rate"] = _share(frame["errors"], frame["requests"])
        distinct = select(
            _count_distinct(rollup_spenders.c.user_id, window).label("users"),
            _count_distinct(rollup_spenders.c.conversation_id, window).label("conversations"),
        )
        return pd.concat([frame, self._frame(distinct)], axis=1).fillna({"cost_usd": 0.0})

    def traces_select(
        self,
        filters: TraceFilters,
        *,
        text_matches: list[str] | None = None,
        common_text: bool = False,
    ) -> Select[Any]:
        """Traces matching ``filters``, newest first (trace id breaks ties). ``text_matches``,
        when given, are the ids of every trace whose spans hold ``filters.text`` (see
        ``list_traces``), so the spans are not searched again; ``common_text`` says that an
        index found too many spans holding it to list them."""
        t = traces.c
        where: list[ColumnElement[bool]] = []
        if filters.start is not None:
            where.append(t.start_time >= filters.start)
        if filters.end is not None:
            where.append(t.start_time < filters.end)
        if filters.status == "error":
            where.append(t.error_count > 0)
        elif filters.status == "ok":
            where.append(t.error_count == 0)
        for column, value in ((t.conversation_id, filters.conversation_id),
                              (t.user_id, filters.user_id)):  # fmt: skip
            if value is not None:
                where.append(column == value)
        if filters.min_cost_usd is not None:
            # As a Decimal the bound is sent as numeric, which PostgreSQL turns into the
            # column's type (double precision, or numeric in stores made before) and so can use
            # the cost index; a float bound would make it compare numeric rows as floats.
            where.append(t.cost_usd >= Decimal(str(filters.min_cost_usd)))
        root = func.coalesce(t.root_name, "")
        where += [~root.startswith(prefix, autoescape=True) for prefix in filters.hide_roots]
        if text_matches is not None:
            where.append(t.trace_id.in_(text_matches))
            filters = replace(filters, text=None)
        where += _span_conditions(
            filters, self._dialect, per_trace=self._is_timescale(), text_per_trace=common_text
        )
        return select(traces).where(*where).order_by(t.start_time.desc(), t.trace_id.desc())

    def list_traces(
        self, filters: TraceFilters | None = None, page: int = 1, page_size: int = 50
    ) -> TracePage:
        """Page ``page`` (from 1) of matching traces: ids, times, duration_ms, status, counts,
        tokens, cost, first provider/model, conversation and user."""
        if page < 1 or page_size < 1:
            raise QueryError("page and page_size start at 1.")
        offset = (page - 1) * page_size

        def rows(chosen: TraceFilters, matches: list[str] | None, common: bool) -> pd.DataFrame:
            query = self.traces_select(chosen, text_matches=matches, common_text=common)
            return self._trace_frame(query.limit(page_size + 1).offset(offset))

        frame = self._newest_first(searchable(filters or TraceFilters()), rows, page_size + 1)
        has_more = len(frame) > page_size
        return TracePage(frame.head(page_size).reset_index(drop=True), page, page_size, has_more)

    def page_traces(
        self,
        filters: TraceFilters | None = None,
        *,
        offset: int = 0,
        limit: int = 50,
        before: tuple[datetime, str] | None = None,
    ) -> TracePage:
        """As ``list_traces``, by ``offset`` and ``limit`` and, for a cursor, only traces that
        come after ``before`` (the start time and id of the last trace of the previous page) in
        the newest-first order."""
        if offset < 0 or limit < 1:
            raise QueryError("offset starts at 0 and limit at 1.")

        def rows(chosen: TraceFilters, matches: list[str] | None, common: bool) -> pd.DataFrame:
            query = self.traces_select(chosen, text_matches=matches, common_text=common)
            if before is not None:
                start, trace_id = before
                t = traces.c
                query = query.where(
                    (t.start_time < start) | ((t.start_time == start) & (t.trace_id < trace_id))
                )
            return self._trace_frame(query.limit(limit + 1).offset(offset))

        filters = searchable(filters or TraceFilters())
        anchor = before[0] if before is not None else None
        frame = self._newest_first(filters, rows, limit + 1, anchor=anchor)
        return TracePage(frame.head(limit).reset_index(drop=True), 0, limit, len(frame) > limit)

    def search_traces(
        self, groups: list[TraceFilters], *, match_all: bool, offset: int = 0, limit: int = 50
    ) -> TracePage:
        """Traces matching every group of filters (``match_all``) or any of them, newest first;
        within a group the filters all hold (as in ``list_traces``)."""
        if not groups:
            return self.page_traces(offset=offset, limit=limit)
        if offset < 0 or limit < 1:
            raise QueryError("offset starts at 0 and limit at 1.")
        conditions = []
        for group in groups:
            clause = self.traces_select(searchable(group)).whereclause
            conditions.append(clause if clause is not None else literal(True))
        combined = and_(*conditions) if match_all else or_(*conditions)
        t = traces.c
        query = select(traces).where(combined).order_by(t.start_time.desc(), t.trace_id.desc())
        frame = self._trace_frame(query.limit(limit + 1).offset(offset))
        return TracePage(frame.head(limit).reset_index(drop=True), 0, limit, len(frame) > limit)

    def trace_summary(self, trace_id: str) -> pd.DataFrame:
        """The trace list's row for one trace (empty when there is no such trace)."""
        return self._trace_frame(select(traces).where(traces.c.trace_id == trace_id))

    def _newest_first(
        self,
        filters: TraceFilters,
        rows: Callable[[TraceFilters, list[str] | None, bool], pd.DataFrame],
        wanted: int,
        *,
        anchor: datetime | None = None,
    ) -> pd.DataFrame:
        """``rows(filters, text matches, common text)``, the first ``wanted`` rows of the trace
        list (the text looked up through the indexes once, for the whole window). When each
        trace's spans are looked up in turn (TimescaleDB: provider, model or a common text),
        the list's newest ``NEWEST_FIRST`` (before ``anchor``, the end of the window, or now)
        is asked first: the hypertable's chunks of that day alone are then planned for, where
        the whole window's took longer to plan than to read a page (about 2 ms a chunk). A
        narrower window holds the newest traces of the wider one, in the same order, so when
        it fills the page its rows are the page's; otherwise the whole window is asked."""
        with answering():
            matches, common = self._indexed_text_matches(filters)
            per_trace = (filters.provider or filters.model or common) and self._is_timescale()
        newest = (anchor or filters.end or datetime.now(UTC)) - NEWEST_FIRST
        if per_trace and (filters.start is None or filters.start < newest):
            frame = rows(replace(filters, start=newest), matches, common)
            if len(frame) >= wanted:
                return frame
        return rows(filters, matches, common)

    def _trace_frame(self, query: Select[Any]) -> pd.DataFrame:
        frame = self._frame(query)
        for column in ("start_time", "end_time"):
            frame[column] = pd.to_datetime(frame[column], utc=True)
        frame["duration_ms"] = (frame["end_time"] - frame["start_time"]).dt.total_seconds() * 1e3
        frame["status"] = np.where(frame["error_count"] > 0, "error", "ok")
        return frame

    def trace_spans_select(self, trace_id: str) -> Select[Any]:
        """The spans of one trace by start time, read within the trace's own time range (from
        ``traces``): on TimescaleDB that touches one chunk, and in a compressed chunk only
        the batches that cover the range."""
        with answering(), self._engine.connect() as conn:
            bounds = conn.execute(
                select(traces.c.start_time, traces.c.end_time).where(traces.c.trace_id == trace_id)
            ).first()
        where = [spans.c.trace_id == trace_id]
        if bounds is not None:
            start, end = bounds
            where += [spans.c.start_time >= start, spans.c.start_time <= end]
        return select(spans).where(*where).order_by(spans.c.start_time)

    def trace_spans(self, trace_id: str) -> pd.DataFrame:
        """Every span of one trace by start time, with ``depth`` and ``offset_ms`` for a
        waterfall, and ``attributes``/``events`` as Python objects."""
        frame = self._frame(self.trace_spans_select(trace_id))
        if frame.empty:
            return frame
        parents = dict(zip(frame["span_id"], frame["parent_span_id"], strict=True))
        frame["depth"] = [_depth(span_id, parents) for span_id in frame["span_id"]]
        frame["start_time"] = pd.to_datetime(frame["start_time"], utc=True)
        origin = frame["start_time"].min()
        frame["offset_ms"] = (frame["start_time"] - origin).dt.total_seconds() * 1e3
        for column in ("attributes", "events"):
            frame[column] = [json.loads(v) if isinstance(v, str) else v for v in frame[column]]
        return frame

    def _indexed_text_matches(self, filters: TraceFilters) -> tuple[list[str] | None, bool]:
        """With text indexes (PostgreSQL: the store's single one, or its indexes by day;
        TimescaleDB: the copies of closed days' text; SQLite: ``span_text``; each leaves what
        it does not cover to a scan), the traces whose spans hold ``filters.text`` if there
        are at most ``INDEXED_TEXT_MATCHES`` such spans, and ``False``; else ``None``, and
        whether an index found more (the trace list then reads the newest traces' spans until
        a page is full: fast for a common string, which an index would be slow to list)."""
        if not filters.text:
            return None, False
        pattern = _like_pattern(filters.text)
        exact = _text_match(self._dialect, pattern)
        probe: Select[Any] | CompoundSelect[Any] | None = None
        with self._engine.connect() as conn:
            if not self._dialect.is_postgres:
                # FTS5 cannot look up a pattern with an ESCAPE clause: such text is scanned.
                if pattern == f"%{filters.text}%" and (upto := indexed_upto(conn)):
                    probe = union_all(*text_table_arms(upto, filters.start, pattern, exact))
            else:
                indexed = literal_column(TEXT_INDEX_EXPRESSION).ilike(pattern, escape="\\")
                condition = and_(indexed, exact)
                start = filters.start
                if self._has_text_index():
                    since = [spans.c.start_time >= start] if start is not None else []
                    probe = select(spans.c.trace_id).where(condition, *since)
                elif self._is_timescale():
                    # The copied days and the search in one snapshot: a day a late span
                    # made stale is scanned, never read from its copy.
                    conn.execution_options(isolation_level="REPEATABLE READ")
                    self._search_tables = self._search_tables or has_search_tables(conn)
                    if self._search_tables and (days := days_to_search(conn)):
                        matches = partial(_text_match, self._dialect, pattern)
                        probe = union_all(*search_arms(days, start, indexed, matches))
                elif days := self._indexed_days():
                    probe = union_all(*day_index_arms(days, start, condition))
            if probe is None:
                return None, False
            found = conn.execute(probe.limit(INDEXED_TEXT_MATCHES + 1)).scalars().all()
        if len(found) > INDEXED_TEXT_MATCHES:
            return None, True
        return sorted(set(found)), False

    def chat_models(self, trace_ids: list[str]) -> dict[str, str]:
        """The chat models each trace called, in order (``"gpt-4o-mini, claude-haiku-4-5"``);
        traces without a chat call are left out. Embeddings and retrieval are not chat."""
        if not trace_ids:
            return {}
        s = spans.c
        query = (
            select(s.trace_id, func.coalesce(s.response_model, s.request_model).label("model"))
            .where(s.trace_id.in_(trace_ids), s.operation.in_(CHAT_OPERATIONS))
            .order_by(s.trace_id, s.start_time)
        )
        models: dict[str, dict[str, None]] = {}
        for trace_id, model in self._frame(query).itertuples(index=False):
            if model:
                models.setdefault(str(trace_id), {})[str(model)] = None
        return {trace_id: ", ".join(names) for trace_id, names in models.items()}

    def latest_trace_start(self) -> datetime | None:
        """When the newest trace started (``None`` for an empty store): what the API's answers
        give as ``Last-Modified``."""
        with answering(), self._engine.connect() as conn:
            value = conn.execute(select(func.max(traces.c.start_time))).scalar()
        return pd.Timestamp(value).to_pydatetime() if value is not None else None

    def _has_text_index(self) -> bool:
        if self._text_index is None:
            self._text_index = False
            if self._dialect.is_postgres:
                query = text("SELECT to_regclass(:name) IS NOT NULL")
                with self._engine.connect() as conn:
                    self._text_index = bool(conn.execute(query, {"name": TEXT_INDEX}).scalar())
        return self._text_index

    def _is_timescale(self) -> bool:
        """Whether ``spans`` is a TimescaleDB hypertable (looked up once)."""
        if self._timescale is None:
            self._timescale = False
            if self._dialect.is_postgres:
                with self._engine.connect() as conn:
                    self._timescale = is_timescale_store(conn)
        return self._timescale

    def _indexed_days(self) -> list[date]:
        """The days with a text index, looked up at most once every ``DAYS_RECHECK_S``."""
        checked, days = self._days
        if time.monotonic() - checked >= DAYS_RECHECK_S:
            with self._engine.connect() as conn:
                days = indexed_days(conn)
            self._days = (time.monotonic(), days)
        return days

    def _usage_per_person(
        self, window: Window, bucket: Bucket, group_by: Dimension, top: int
    ) -> Select[Any]:
        """Usage by user or conversation: minute buckets from the spans themselves, hour and
        day buckets from the per-hour spender rollup; keys outside the top ``top`` merged."""
        if top < 1:
            raise QueryError("top must be at least 1.")
        if bucket is Bucket.MINUTE:
            metrics = {m.name: m for m in call_metrics(histograms=False)}
            key = dimension_columns()[group_by.value]
            time: ColumnElement[Any] = truncate_time(
                self._dialect, spans.c.start_time, "minute", UtcDateTime()
            )
            where = [rollup_filter(), *_in_window(spans.c.start_time, window, Bucket.MINUTE)]
            sums = {m: metrics[m].element for m in USAGE}
            cost = sums["cost_usd"]
        else:
            table = rollup_spenders
            key = table.c[group_by.value]
            time = table.c.bucket
            if bucket is Bucket.DAY:
                time = truncate_time(self._dialect, table.c.bucket, "day", UtcDateTime())
            where = _in_window(table.c.bucket, window, Bucket.HOUR)
            sums = {m: _person_sum(table.c[m]) for m in USAGE}
            cost = sums["cost_usd"]
        leaders = (
            select(key.label("key"))
            .where(*where, key != "")
            .group_by(key)
            .order_by(cost.desc(), key)
            .limit(top)
            .scalar_subquery()
        )
        series = case((key.in_(leaders), key), else_=literal(OTHERS)).label(group_by.value)
        groups = [time.label("bucket"), series]
        return (
            select(*groups, *(value.label(m) for m, value in sums.items()))
            .where(*where)
            .group_by(*groups)
            .order_by(*groups)
        )

    def _call_rollup(self, window: Window, group_by: Dimension | None) -> Table:
        if group_by is not None and group_by.per_person:
            raise QueryError("Latency and reliability group by provider, model, experiment, "
                             "variant or scenario, not by user or conversation.")  # fmt: skip
        short = window.end - window.start <= MINUTE_ROLLUP_UP_TO
        return rollup_minute if short else rollup_hour

    def _grouped(
        self,
        table: Table,
        window: Window,
        group_by: Dimension | None,
        sums: list[str],
        extra: list[Any],
    ) -> pd.DataFrame:
        grain = Bucket.MINUTE if table is rollup_minute else Bucket.HOUR
        keys = [table.c[group_by.value]] if group_by else []
        query = (
            select(*keys, *(func.coalesce(func.sum(table.c[s]), 0).label(s) for s in sums), *extra)
            .where(*_in_window(table.c.bucket, window, grain))
            .group_by(*keys)
            .order_by(*keys)
        )
        return self._frame(query)

    def _frame(self, query: Executable) -> pd.DataFrame:
        with answering(), self._engine.connect() as conn:
            if self._dialect.is_postgres:
                conn.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
            result = conn.execute(query)
            return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def histogram_percentile(counts: Any, q: float) -> float:
    """The ``q`` quantile (0–1) of a latency histogram, linear inside the bin; NaN if empty."""
    total = float(np.sum(counts))
    if total <= 0:
        return float("nan")
    rank = q * total
    cumulative = np.cumsum(counts)
    index = int(np.searchsorted(cumulative, rank, side="left"))
    index = min(index, len(counts) - 1)
    low = 0.0 if index == 0 else LATENCY_BOUNDS_MS[index - 1]
    high = LATENCY_BOUNDS_MS[index] if index < len(LATENCY_BOUNDS_MS) else low
    before = cumulative[index] - counts[index]
    inside = counts[index]
    return float(low + (high - low) * ((rank - before) / inside if inside else 1.0))


def _person_sum(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """Sum of a spender-rollup column over tens of thousands of users or conversations, in
    double precision: PostgreSQL sums ``bigint`` (and the money of stores made before money
    was double precision) in ``numeric``, allocating a state per group, which costs half as
    much again. Token counts stay exact (below 2**53) and come back as integers."""
    total = func.sum(cast(column, Float()))
    return cast(total, BigInteger()) if isinstance(column.type, Integer) else total


def _in_window(column: Any, window: Window, grain: Bucket) -> list[ColumnElement[bool]]:
    start = window.start.astimezone(UTC).replace(second=0, microsecond=0)
    if grain is Bucket.HOUR:
        start = start.replace(minute=0)
    return [column >= start, column < window.end]


def _count_distinct(column: ColumnElement[Any], window: Window) -> Any:
    """Distinct non-empty values of a spender key in ``window``, as a scalar subquery: a
    GROUP BY (hashed) rather than ``count(DISTINCT …)`` (a sort) over every spender row."""
    people = rollup_spenders.c
    values = (
        select(column)
        .where(*_in_window(people.bucket, window, Bucket.HOUR), column != "")
        .group_by(column)
        .subquery()
    )
    return select(func.count()).select_from(values).scalar_subquery()


def _span_conditions(
    filters: TraceFilters, dialect: StoreDialect, *, per_trace: bool, text_per_trace: bool
) -> list[ColumnElement[bool]]:
    """EXISTS conditions on a trace's spans. A trace starts with its first span, so a window's
    start also bounds the spans searched (the time index then narrows the text search); each
    trace's spans are looked for within its own time range (on TimescaleDB only the chunks and
    compressed batches that cover it are read).

    ``per_trace`` (TimescaleDB) looks up the spans of each trace in turn, newest trace first,
    for provider and model (and for text with ``text_per_trace``): a page of a common value
    is full after a few hundred lookups, each reading one chunk, where a join would gather the
    matching spans of every chunk of the window first (more than a second over 30 days)."""
    s = spans.c
    t = traces.c
    same_trace = [
        s.trace_id == t.trace_id,
        s.start_time >= t.start_time,
        s.start_time <= t.end_time,
    ]
    if filters.start is not None:
        same_trace.append(s.start_time >= filters.start)
    conditions: list[ColumnElement[bool]] = []
    for column, value in ((s.provider, filters.provider), (s.request_model, filters.model)):
        if value is not None:
            conditions.append(_spans_exist(per_trace, *same_trace, column == value))
    if filters.text:
        text_match = _text_match(dialect, _like_pattern(filters.text))
        conditions.append(_spans_exist(per_trace and text_per_trace, *same_trace, text_match))
    return conditions


def _spans_exist(per_trace: bool, *where: ColumnElement[bool]) -> ColumnElement[bool]:
    """EXISTS over ``spans``; ``per_trace`` keeps PostgreSQL from turning it into a join (a
    subquery with an OFFSET is run for each outer row as it comes)."""
    if per_trace:
        return select(literal(1)).where(*where).offset(0).exists()
    return exists().where(*where)


def _text_match(dialect: StoreDialect, pattern: str, table: Table = spans) -> ColumnElement[bool]:
    """A span's name or attributes (in ``table``: ``spans`` or a copy of its text) contain
    ``pattern`` (in a form the trigram index, which covers the two joined, cannot serve: the
    trace list's scan reads newest traces first)."""
    name, attributes = table.c.name, table.c.attributes.cast(Text())
    return _contains(dialect, name, pattern) | _contains(dialect, attributes, pattern)


def _contains(dialect: StoreDialect, column: ColumnElement[Any], pattern: str) -> Any:
    """Case-insensitive LIKE, folding ASCII letters only on every backend: SQLite's LIKE does
    that already; on PostgreSQL, ILIKE under the "C" collation does it about twice as fast as
    under a locale's collation."""
    match dialect:
        case StoreDialect.SQLITE:
            return column.like(pattern, escape="\\")
        case StoreDialect.POSTGRESQL | StoreDialect.TIMESCALEDB:
            return column.collate("C").ilike(pattern, escape="\\")
        case _:
            assert_never(dialect)


def searchable(filters: TraceFilters) -> TraceFilters:
    """``filters`` with text no store can hold taken out of its search text: NUL characters
    (PostgreSQL refuses them; no span holds one) and lone surrogates (not text); search text
    left empty searches nothing."""
    if filters.text is None:
        return filters
    text = filters.text.replace("\x00", "").encode("utf-8", "ignore").decode("utf-8")
    return replace(filters, text=text or None)


def _like_pattern(text: str) -> str:
    """A LIKE pattern (escape character ``\\``) matching ``text`` anywhere, its ``%`` and
    ``_`` taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _share(part: pd.Series, whole: pd.Series) -> pd.Series:
    return part.astype(float) / whole.astype(float).where(whole > 0)


def _depth(span_id: str, parents: dict[str, Any]) -> int:
    depth, seen = 0, {span_id}
    parent = parents.get(span_id)
    while isinstance(parent, str) and parent in parents and parent not in seen:
        seen.add(parent)
        depth, parent = depth + 1, parents[parent]
    return depth
