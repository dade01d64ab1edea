"""The daily rollups give the Analytics page the same figures as scanning the spans and traces.

The spans arrive in many batches in a shuffled order, so that a trace's turn, its chat calls,
its votes (changed once in a while) and its hand-off often land in different batches: the turn
rollup must take back what a trace added before and add what it adds now. Each answer that
reads whole days from the rollups is compared with the same answer computed from ``spans``
(calls) and ``traces`` (turns), over a range whose ends and boundary fall inside hours.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags
from sqlalchemy import Engine, case, delete, func, literal, literal_column, select

from bench._spans import RESOURCE, generate_spans
from bench.bench_dashboard import turn_spans
from observability.analytics import AnalyticsQueries, previous
from observability.queries import AnalyticsFilters, Dimension, Window
from observability.store import create_store_engine, prepare_store
from observability.store.dialect import StoreDialect, truncate_time
from observability.store.rollups import call_metrics, dimension_columns, rollup_filter
from observability.store.rows import SpanRow, span_to_row
from observability.store.schema import (
    TURN_METRICS,
    UtcDateTime,
    redaction_rollup_day,
    rollup_day,
    rollup_spender_day,
    rollup_spenders,
    spans,
    traces,
    turn_rollup_day,
)
from observability.store.turns import turn_figures, turn_sums
from observability.store.upgrade import upgrade_store
from observability.store.writer import SqlSpanWriter

START = datetime(2026, 10, 1, tzinfo=UTC)
WINDOW = Window(
    START + timedelta(days=3, hours=10, minutes=30), START + timedelta(days=6, hours=7, minutes=20)
)
FILTERED = AnalyticsFilters(provider="anthropic", variant="treatment", environment="")


def _vote(trace_id: int, at: int, value: int, rng: random.Random) -> ReadableSpan:
    return ReadableSpan(
        name="annotation feedback",
        context=SpanContext(trace_id, rng.getrandbits(64) | 1, False, TraceFlags(1)),
        parent=None,
        resource=RESOURCE,
        attributes={"observatory.annotation.value": value},
        kind=SpanKind.INTERNAL,
        status=Status(StatusCode.OK),
        start_time=at + 5_000_000_000,
        end_time=at + 5_000_000_000,
    )


def _batches() -> list[list[SpanRow]]:
    """Seven days of traces with their turns, votes (some changed later) and hand-offs, as
    shuffled batches of 150 rows (a later vote always in a later batch than the first)."""
    rng = random.Random(11)
    first, later = [], []
    for span in generate_spans(6_000, seed=5, start=START, days=7):
        first.append(span_to_row(span))
        if span.parent is None and span.context is not None:
            ids = dict(span.attributes or {})
            for extra in turn_spans(span.context.trace_id, span.start_time or 0, ids, rng):
                first.append(span_to_row(extra))
            if rng.random() < 0.05:
                later.append(span_to_row(_vote(span.context.trace_id, span.start_time or 0,
                                               rng.choice((1, -1)), rng)))  # fmt: skip
    rng.shuffle(first)
    rows = first + later
    return [rows[i : i + 150] for i in range(0, len(rows), 150)]


BATCHES = _batches()


def _load(url: str) -> Engine:
    engine = create_store_engine(url)
    writer = SqlSpanWriter(engine, prepare_store(engine, compress_after_days=7, drop_after_days=90))
    for batch in BATCHES:
        writer.write(batch)
    return engine


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('r') / 'traces.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = _load(url)
    yield engine
    engine.dispose()


def _dialect(engine: Engine) -> StoreDialect:
    return StoreDialect.SQLITE if engine.dialect.name == "sqlite" else StoreDialect.POSTGRESQL


def _rows(engine: Engine, query: Any) -> pd.DataFrame:
    with engine.connect() as conn:
        result = conn.execute(query)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def _same(got: pd.DataFrame, expected: pd.DataFrame, keys: list[str]) -> None:
    got, expected = (f.sort_values(keys).reset_index(drop=True) for f in (got, expected))
    assert len(got) == len(expected) > 0
    for column in expected.columns:
        if column in keys:
            assert list(got[column]) == list(expected[column]), column
        elif expected[column].dtype.kind == "f" or column in ("cost_usd", "quality_sum"):
            assert list(got[column].astype(float)) == pytest.approx(
                list(expected[column].astype(float)), rel=1e-9
            ), column
        else:
            assert list(got[column].astype(int)) == list(expected[column].astype(int)), column


def test_the_turn_rollup_holds_what_the_traces_add_up_to(store: Engine) -> None:
    computed = _rows(store, turn_figures(_dialect(store), "day"))
    kept = _rows(store, select(turn_rollup_day).where(turn_rollup_day.c.turns != 0))
    keys = [c.name for c in turn_rollup_day.primary_key.columns]
    _same(kept, computed, keys)
    assert kept["up"].sum() > 0 and kept["escalated"].sum() > 0


@pytest.mark.parametrize("filters", [AnalyticsFilters(), FILTERED], ids=["all", "filtered"])
def test_periods_equal_the_span_scan(store: Engine, filters: AnalyticsFilters) -> None:
    got = AnalyticsQueries(store).periods(WINDOW, filters)
    hour = truncate_time(_dialect(store), spans.c.start_time, "hour", UtcDateTime())
    period = case((hour >= WINDOW.start, literal("current")), else_=literal("previous"))
    dims = dimension_columns()
    keys = [
        period.label("period"),
        dims["provider"].label("provider"),
        dims["model"].label("model"),
    ]
    start = previous(WINDOW).start.replace(minute=0)
    query = (
        select(*keys, *call_metrics(histograms=True))
        .where(rollup_filter(), hour >= start, hour < WINDOW.end)
        .where(*(dims[k] == v for k, v in filters.call_keys().items()))
        .group_by(*(literal_column(k.name) for k in keys))
    )
    _same(got, _rows(store, query), ["period", "provider", "model"])


def test_a_month_by_day_equals_the_span_scan(store: Engine) -> None:
    month = Window(START - timedelta(days=20, hours=3), START + timedelta(days=6, minutes=50))
    got = AnalyticsQueries(store).over_time(month, AnalyticsFilters())
    dialect = _dialect(store)
    day = truncate_time(dialect, spans.c.start_time, "day", UtcDateTime())
    hour = truncate_time(dialect, spans.c.start_time, "hour", UtcDateTime())
    dims = dimension_columns()
    keys = [day.label("bucket"), dims["provider"].label("provider"), dims["model"].label("model")]
    query = (
        select(*keys, *call_metrics(histograms=False))
        .where(rollup_filter(), spans.c.start_time >= month.start.replace(minute=0))
        .where(hour < month.end)
        .group_by(*(literal_column(k.name) for k in keys))
    )
    expected = _rows(store, query)
    expected["bucket"] = pd.to_datetime(expected["bucket"], utc=True)
    _same(got, expected, ["bucket", "provider", "model"])


@pytest.mark.parametrize("filters", [AnalyticsFilters(), FILTERED], ids=["all", "filtered"])
def test_turn_outcomes_equal_the_traces_scan(store: Engine, filters: AnalyticsFilters) -> None:
    got = AnalyticsQueries(store).outcomes(WINDOW, filters).turns
    t = traces.c
    day = truncate_time(_dialect(store), t.start_time, "day", UtcDateTime())
    period = case((t.start_time >= WINDOW.start, literal("current")), else_=literal("previous"))
    keys = [
        period.label("period"),
        day.label("bucket"),
        func.coalesce(t.provider, "").label("provider"),
        func.coalesce(t.model, "").label("model"),
    ]
    query = (
        select(*keys, *turn_sums())
        .where(t.turns > 0, t.start_time >= previous(WINDOW).start, t.start_time < WINDOW.end)
        .where(*(func.coalesce(t[k], "") == v for k, v in filters.call_keys().items()))
        .group_by(*keys)
    )
    expected = _rows(store, query)
    expected["bucket"] = pd.to_datetime(expected["bucket"], utc=True)
    got["bucket"] = pd.to_datetime(got["bucket"], utc=True)
    _same(got, expected, ["period", "bucket", "provider", "model"])
    assert set(got["period"]) == {"current", "previous"}
    assert got["up"].sum() > 0 and got["down"].sum() > 0 and got["escalated"].sum() > 0


@pytest.mark.parametrize("filters", [AnalyticsFilters(), FILTERED], ids=["all", "filtered"])
def test_redactions_equal_the_span_scan(store: Engine, filters: AnalyticsFilters) -> None:
    got = AnalyticsQueries(store).outcomes(WINDOW, filters).redactions
    expected: Counter[str] = Counter()
    for batch in BATCHES:
        for row in batch:
            if row.name != "redact_pii" or not WINDOW.start <= row.start_time < WINDOW.end:
                continue
            trace = _trace_of(store, row.trace_id) if "provider" in filters.call_keys() else {}
            own = {k: getattr(row, k) or "" for k in ("variant", "environment")} | trace
            if all(own.get(k, v) == v for k, v in filters.call_keys().items()):
                expected.update(json.loads(row.attributes)["observatory.pii.kinds"])
    assert dict(zip(got["kind"], got["texts"], strict=True)) == dict(expected)
    assert set(got["period"]) == {"current"} and sum(expected.values()) > 0


def _trace_of(engine: Engine, trace_id: str) -> dict[str, str]:
    with engine.connect() as conn:
        provider = conn.execute(
            select(traces.c.provider).where(traces.c.trace_id == trace_id)
        ).scalar()
    return {"provider": provider or ""}


@pytest.mark.parametrize("by", [Dimension.USER, Dimension.CONVERSATION], ids=str)
def test_breakdowns_equal_the_hourly_rollup(store: Engine, by: Dimension) -> None:
    queries = AnalyticsQueries(store)
    hours = rollup_spenders.c
    key = hours[by.value]
    start = WINDOW.start.replace(minute=0)
    everyone = _rows(
        store,
        select(
            key.label(by.value),
            func.sum(hours.requests).label("requests"),
            func.sum(hours.input_tokens + hours.output_tokens).label("tokens"),
            func.sum(hours.cost_usd).label("cost_usd"),
            func.sum(hours.unpriced).label("unpriced"),
            func.max(hours.bucket).label("last_seen"),
        )
        .where(hours.bucket >= start, hours.bucket < WINDOW.end, key != "")
        .group_by(key),
    ).sort_values(["cost_usd", "requests", by.value], ascending=[False, False, True])
    got = queries.spenders(WINDOW, AnalyticsFilters(), by, top=len(everyone))
    expected = everyone.reset_index(drop=True)
    expected["last_seen"] = pd.to_datetime(expected["last_seen"], utc=True)
    got["last_seen"] = pd.to_datetime(got["last_seen"], utc=True)
    assert list(got[by.value]) == list(expected[by.value])
    _same(got.drop(columns="customer"), expected, [by.value, "last_seen"])
    if by is Dimension.USER:
        one = str(expected["user_id"].iloc[0])
        mine = queries.spenders(WINDOW, AnalyticsFilters(customer=one), by)
        assert list(mine["requests"]) == [expected["requests"].iloc[0]]
        assert 0 < len(expected) < 500  # every customer is offered
        assert queries.options(WINDOW)["customer"] == sorted(expected["user_id"])


def test_an_earlier_store_gets_its_daily_rollups_filled(store: Engine) -> None:
    before = {
        "day": _rows(store, select(rollup_day)),
        "turns": _rows(store, select(turn_rollup_day).where(turn_rollup_day.c.turns != 0)),
        "redactions": _rows(store, select(redaction_rollup_day)),
        "spenders": _rows(store, select(rollup_spender_day)),
    }
    with store.begin() as conn:
        for table in (rollup_day, turn_rollup_day, redaction_rollup_day, rollup_spender_day):
            conn.execute(delete(table))
    upgrade_store(store, _dialect(store))
    day_keys = ["bucket", "provider", "model", "experiment", "variant", "scenario", "environment"]
    _same(_rows(store, select(rollup_day)), before["day"], day_keys)
    _same(_rows(store, select(turn_rollup_day)), before["turns"], day_keys)
    redaction_keys = ["bucket", "kind", "experiment", "variant", "scenario", "environment"]
    _same(_rows(store, select(redaction_rollup_day)), before["redactions"], redaction_keys)
    spender_keys = ["bucket", "user_id", "conversation_id", "last_seen"]
    _same(_rows(store, select(rollup_spender_day)), before["spenders"], spender_keys)
    assert set(TURN_METRICS) <= set(before["turns"].columns)
