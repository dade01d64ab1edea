"""Analytics queries: the same answers on SQLite and PostgreSQL, equal to sums over the stored
rows; a customer's figures from the spans equal the rollups' for the same calls; the
environment filter separates demo traffic."""

from __future__ import annotations

import json
import random
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pandas as pd
import psycopg
import pytest
from opentelemetry.sdk.resources import Resource
from sqlalchemy import Engine

from bench._spans import generate_spans
from bench.bench_dashboard import turn_spans
from observability import attributes as attr
from observability import dashboard
from observability.analytics import REST, AnalyticsQueries, bucket_for, previous
from observability.queries import AnalyticsFilters, Bucket, Dimension, Window
from observability.store import create_store_engine, prepare_store
from observability.store.rows import SpanRow, span_to_row
from observability.store.writer import SqlSpanWriter

START = datetime(2026, 10, 1, tzinfo=UTC)
WINDOW = Window(START + timedelta(days=1), START + timedelta(days=2))
DEMO = Resource.create({"service.name": "bench", attr.DEPLOYMENT_ENVIRONMENT: "demo"})


def _rows() -> list[SpanRow]:
    """Generated calls, a quarter labelled demo; each trace a turn, some voted on, escalated
    or redacted (as ``bench_dashboard`` makes them)."""
    rows, rng = [], random.Random(4)
    for span in generate_spans(3_000, seed=9, start=START, days=2):
        if (span.context.trace_id if span.context else 0) % 4 == 1:
            span._resource = DEMO  # demo history: labelled by its resource
        rows.append(span_to_row(span))
        if span.parent is None and span.context is not None:
            ids = dict(span.attributes or {})
            for extra in turn_spans(span.context.trace_id, span.start_time or 0, ids, rng):
                rows.append(span_to_row(extra))
    return rows


ROWS = _rows()


def _load(url: str) -> Engine:
    engine = create_store_engine(url)
    writer = SqlSpanWriter(engine, prepare_store(engine, compress_after_days=7, drop_after_days=90))
    writer.write(ROWS)
    return engine


@pytest.fixture(scope="module")
def stores(
    postgres_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, AnalyticsQueries]]:
    schema = f"a_{uuid.uuid4().hex[:10]}"
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sqlite = _load(f"sqlite:///{tmp_path_factory.mktemp('a') / 'traces.db'}")
    pg = _load(f"{postgres_url}?options=-csearch_path%3D{schema}")
    yield {"sqlite": AnalyticsQueries(sqlite), "postgresql": AnalyticsQueries(pg)}
    sqlite.dispose()
    pg.dispose()


def _calls(window: Window = WINDOW, **match: str | None) -> list[SpanRow]:
    return [
        r
        for r in ROWS
        if r.operation and r.provider and window.start <= r.start_time < window.end
        and all(getattr(r, k) == v for k, v in match.items())
    ]  # fmt: skip


def test_both_backends_give_the_stored_sums(stores: dict[str, AnalyticsQueries]) -> None:
    frames = {name: q.periods(WINDOW, AnalyticsFilters()) for name, q in stores.items()}
    for frame in frames.values():
        now = frame[frame["period"] == "current"]
        calls = _calls()
        assert now["requests"].sum() == len(calls)
        assert now["cost_usd"].sum() == pytest.approx(sum(r.cost_usd or 0 for r in calls))
        unpriced = [r for r in calls if r.cost_status == "unpriced"]
        assert now["unpriced"].sum() == len(unpriced) > 0
        tokens = sum(r.input_tokens + r.output_tokens for r in unpriced)  # type: ignore[operator]
        assert now["unpriced_tokens"].sum() == tokens
        before = frame[frame["period"] == "previous"]
        assert before["requests"].sum() == len(_calls(previous(WINDOW)))
    sqlite, pg = (
        f.sort_values(["period", "model"]).reset_index(drop=True) for f in frames.values()
    )
    pd.testing.assert_frame_equal(sqlite, pg, check_dtype=False)


def test_a_customer_from_the_spans_equals_the_rollups(stores: dict[str, AnalyticsQueries]) -> None:
    customer = pd.Series([r.user_id for r in _calls()]).value_counts().index[0]
    for queries in stores.values():
        mine = queries.periods(WINDOW, AnalyticsFilters(customer=customer))
        now = mine[mine["period"] == "current"]
        calls = _calls(user_id=customer)
        assert now["requests"].sum() == len(calls) > 0
        assert now["cost_usd"].sum() == pytest.approx(sum(r.cost_usd or 0 for r in calls))
        people = queries.spenders(WINDOW, AnalyticsFilters(customer=customer), Dimension.USER)
        assert list(people["user_id"]) == [customer]
        assert people["requests"].iloc[0] == len(calls)


def test_the_environment_filter_hides_demo_traffic(stores: dict[str, AnalyticsQueries]) -> None:
    demo = _calls(environment="demo")
    assert 0 < len(demo) < len(_calls())
    for queries in stores.values():
        shown = queries.over_time(WINDOW, AnalyticsFilters(environment="demo"))
        assert shown["requests"].sum() == len(demo)
        assert queries.options(WINDOW)["environment"] == ["demo"]


def test_a_filter_on_the_rollup_keys(stores: dict[str, AnalyticsQueries]) -> None:
    filters = AnalyticsFilters(provider="anthropic", variant="treatment", scenario="returns")
    calls = _calls(provider="anthropic", variant="treatment", scenario="returns")
    for queries in stores.values():
        over_time = queries.over_time(WINDOW, filters)
        assert over_time["requests"].sum() == len(calls) > 0
        assert set(over_time["provider"]) == {"anthropic"}


def test_breakdowns_keep_the_top_and_sum_the_rest(stores: dict[str, AnalyticsQueries]) -> None:
    calls = _calls()
    for queries in stores.values():
        top = queries.spenders(WINDOW, AnalyticsFilters(), Dimension.CONVERSATION, top=5)
        assert len(top) == 6 and top["conversation_id"].iloc[-1] == REST
        assert top["cost_usd"].sum() == pytest.approx(sum(r.cost_usd or 0 for r in calls))
        assert top["requests"].sum() == len(calls)
        leaders = top["cost_usd"].iloc[:5]
        assert list(leaders) == sorted(leaders, reverse=True)


def test_tiles_compare_with_the_previous_period(stores: dict[str, AnalyticsQueries]) -> None:
    queries = stores["sqlite"]
    periods = queries.periods(WINDOW, AnalyticsFilters())
    outcomes = queries.outcomes(WINDOW, AnalyticsFilters())
    tiles = {t.label: t for t in dashboard.tiles(periods, outcomes)}

    now, before = len(_calls()), len(_calls(previous(WINDOW)))
    assert tiles["Requests"].value == now and tiles["Requests"].before == before
    assert tiles["Requests"].change == pytest.approx((now - before) / before)
    votes = [
        json.loads(r.attributes)["observatory.annotation.value"]
        for r in ROWS
        if r.name == "annotation feedback" and WINDOW.start <= r.start_time < WINDOW.end
    ]
    assert tiles["Thumbs-up rate"].value == pytest.approx(votes.count(1) / len(votes))
    no_votes = outcomes.turns.assign(up=0, down=0)
    quiet = dashboard.tiles(periods, replace(outcomes, turns=no_votes))
    assert quiet[4].label == "Thumbs-up rate" and quiet[4].value is None  # not 0 %


def test_unpriced_calls_are_never_charted_as_zero(stores: dict[str, AnalyticsQueries]) -> None:
    over_time = stores["sqlite"].over_time(WINDOW, AnalyticsFilters())
    costs = dashboard.cost_frame(over_time, "model")
    assert "custom-finetune" in set(over_time["model"])
    assert "custom-finetune" not in set(costs["model"])


def test_over_time_buckets_fit_the_range() -> None:
    day = Window(START, START + timedelta(days=1))
    assert bucket_for(replace(day, end=START + timedelta(hours=1))) is Bucket.MINUTE
    assert bucket_for(day) is Bucket.HOUR
    assert bucket_for(replace(day, end=START + timedelta(days=30))) is Bucket.DAY


def test_turns_votes_and_redactions_are_counted(stores: dict[str, AnalyticsQueries]) -> None:
    def named(name: str) -> list[SpanRow]:
        return [r for r in ROWS if r.name == name and WINDOW.start <= r.start_time < WINDOW.end]

    votes = [
        json.loads(r.attributes)["observatory.annotation.value"]
        for r in named("annotation feedback")
    ]
    kinds = [
        k for r in named("redact_pii") for k in json.loads(r.attributes)["observatory.pii.kinds"]
    ]
    answers = {}
    for queries in stores.values():
        outcomes = queries.outcomes(WINDOW, AnalyticsFilters())
        turns = outcomes.turns[outcomes.turns["period"] == "current"]
        assert turns["turns"].sum() == len(named("turn")) > 0
        assert turns["up"].sum() == votes.count(1) > 0
        assert turns["down"].sum() == votes.count(-1)
        assert turns["escalated"].sum() == len(named("summarise_escalation"))
        redactions = dashboard.redaction_frame(outcomes)
        assert dict(zip(redactions["kind"], redactions["texts"], strict=True)) == dict(
            Counter(kinds)
        )
        answers[queries] = dashboard.quality_frame(outcomes).sort_values(["bucket", "measure"])
    sqlite, pg = (frame.reset_index(drop=True) for frame in answers.values())
    pd.testing.assert_frame_equal(sqlite, pg, check_dtype=False)
