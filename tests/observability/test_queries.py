"""Analytics queries: the same answers on SQLite and PostgreSQL from the same spans, and the
answers the generated spans call for."""

from __future__ import annotations

import statistics
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import psycopg
import pytest
from sqlalchemy import Engine, text

from bench._spans import generate_spans
from observability.queries import (
    OTHERS,
    Bucket,
    Dimension,
    TraceFilters,
    TraceQueries,
    Window,
)
from observability.store import create_store_engine, prepare_store
from observability.store.rows import span_to_row
from observability.store.writer import SqlSpanWriter

START = datetime(2026, 10, 1, tzinfo=UTC)
WINDOW = Window(START, START + timedelta(days=3))
ROWS = [span_to_row(s) for s in generate_spans(3_000, seed=11, start=START, days=2)]


def _load(url: str) -> Engine:
    engine = create_store_engine(url)
    writer = SqlSpanWriter(engine, prepare_store(engine, compress_after_days=7, drop_after_days=90))
    for i in range(0, len(ROWS), 700):
        writer.write(ROWS[i : i + 700])
    return engine


@pytest.fixture(scope="module")
def stores(
    postgres_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, TraceQueries]]:
    schema = f"q_{uuid.uuid4().hex[:10]}"
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sqlite = _load(f"sqlite:///{tmp_path_factory.mktemp('q') / 'traces.db'}")
    pg = _load(f"{postgres_url}?options=-csearch_path%3D{schema}")
    yield {"sqlite": TraceQueries(sqlite), "postgresql": TraceQueries(pg)}
    sqlite.dispose()
    pg.dispose()


def _calls() -> list[dict]:
    return [r for r in ROWS if r.operation == "chat"]


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(
        a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=False, rtol=1e-9
    )


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("bucket", "group_by"),
    [(Bucket.HOUR, Dimension.MODEL), (Bucket.DAY, Dimension.VARIANT),
     (Bucket.MINUTE, Dimension.USER), (Bucket.DAY, Dimension.CONVERSATION), (Bucket.HOUR, None)],
)  # fmt: skip
def test_usage_over_time_matches_across_backends_and_the_spans(
    stores: dict[str, TraceQueries], bucket: Bucket, group_by: Dimension | None
) -> None:
    lite = stores["sqlite"].usage_over_time(WINDOW, bucket, group_by)
    _same(lite, stores["postgresql"].usage_over_time(WINDOW, bucket, group_by))
    calls = _calls()
    assert lite["requests"].sum() == len(calls)
    assert lite["cost_usd"].sum() == pytest.approx(sum(r.cost_usd or 0 for r in calls))
    assert lite["output_tokens"].sum() == sum(r.output_tokens or 0 for r in calls)


@pytest.mark.postgres
@pytest.mark.parametrize("bucket", [Bucket.MINUTE, Bucket.HOUR, Bucket.DAY])
def test_usage_by_user_charts_the_top_spenders_and_the_rest_as_others(
    stores: dict[str, TraceQueries], bucket: Bucket
) -> None:
    lite = stores["sqlite"].usage_over_time(WINDOW, bucket, Dimension.USER, top=3)
    _same(lite, stores["postgresql"].usage_over_time(WINDOW, bucket, Dimension.USER, top=3))
    leaders = stores["sqlite"].top_spenders(WINDOW, Dimension.USER, limit=3)
    assert set(lite["user_id"]) == {*leaders["user_id"], OTHERS}
    charted = lite.groupby("user_id")["cost_usd"].sum()
    for user, cost in zip(leaders["user_id"], leaders["cost_usd"], strict=True):
        assert charted[user] == pytest.approx(cost)
    assert lite["requests"].sum() == len(_calls())
    assert lite["cost_usd"].sum() == pytest.approx(sum(r.cost_usd or 0 for r in _calls()))


@pytest.mark.postgres
def test_latency_percentiles_match_across_backends_and_exact_values(
    stores: dict[str, TraceQueries],
) -> None:
    lite = stores["sqlite"].latency_percentiles(WINDOW, Dimension.PROVIDER)
    _same(lite, stores["postgresql"].latency_percentiles(WINDOW, Dimension.PROVIDER))
    for provider, group in pd.DataFrame(_calls()).groupby("provider"):
        row = lite[lite["provider"] == provider].iloc[0]
        for q in (50, 95):
            exact = float(np.percentile(group["duration_ms"], q))
            assert row[f"p{q}_ms"] == pytest.approx(exact, rel=0.10)
        ttfc = group["ttfc_ms"].dropna()
        assert row["ttfc_p50_ms"] == pytest.approx(statistics.median(ttfc), rel=0.10)


@pytest.mark.postgres
def test_reliability_counts_errors_retries_and_fallbacks(stores: dict[str, TraceQueries]) -> None:
    lite = stores["sqlite"].reliability(WINDOW)
    _same(lite, stores["postgresql"].reliability(WINDOW))
    attempts = [r for r in ROWS if r.attempt is not None]
    assert lite["errors"].iloc[0] == sum(r.status == "error" for r in _calls())
    assert lite["fallbacks"].iloc[0] == sum(r.fallback_reason is not None for r in attempts)
    assert lite["retry_rate"].iloc[0] == pytest.approx(
        sum(r.attempt > 1 for r in attempts) / len(attempts)
    )


@pytest.mark.postgres
def test_top_spenders_and_summary(stores: dict[str, TraceQueries]) -> None:
    top = stores["sqlite"].top_spenders(WINDOW, Dimension.USER, limit=5)
    _same(top, stores["postgresql"].top_spenders(WINDOW, Dimension.USER, limit=5))
    per_user = pd.DataFrame(_calls()).groupby("user_id")["cost_usd"].sum().nlargest(5)
    assert list(top["user_id"]) == list(per_user.index)
    summary = stores["sqlite"].summary(WINDOW)
    _same(summary, stores["postgresql"].summary(WINDOW))
    assert summary["users"].iloc[0] == len({r.user_id for r in ROWS})


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_trace_list_filters_and_pages(stores: dict[str, TraceQueries], backend: str) -> None:
    queries = stores[backend]
    first = queries.list_traces(TraceFilters(), page=1, page_size=20)
    second = queries.list_traces(TraceFilters(), page=2, page_size=20)
    assert first.has_more and len(first.traces) == 20
    assert first.traces["start_time"].is_monotonic_decreasing
    assert not set(first.traces["trace_id"]) & set(second.traces["trace_id"])
    errors = queries.list_traces(TraceFilters(status="error", model="gpt-4o"), page_size=500)
    expected = {r.trace_id for r in ROWS if r.status == "error"} & {
        r.trace_id for r in ROWS if r.request_model == "gpt-4o"
    }
    assert set(errors.traces["trace_id"]) == expected
    found = queries.list_traces(TraceFilters(text="LOOKUP_ORDER", min_cost_usd=0.01))
    assert len(found.traces) > 0 and (found.traces["cost_usd"] >= 0.01).all()
    trace_id = found.traces["trace_id"].iloc[0]
    waterfall = queries.trace_spans(trace_id)
    assert waterfall["depth"].max() == 2 and waterfall["offset_ms"].iloc[0] == 0
    assert any("lookup_order" in name for name in waterfall["name"])


@pytest.fixture(scope="module")
def indexed(postgres_url: str) -> Iterator[TraceQueries]:
    """The same spans in a PostgreSQL store with the trigram text index."""
    schema = f"qi_{uuid.uuid4().hex[:10]}"
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    engine = create_store_engine(f"{postgres_url}?options=-csearch_path%3D{schema}")
    dialect = prepare_store(engine, compress_after_days=7, drop_after_days=90, text_index=True)
    writer = SqlSpanWriter(engine, dialect)
    for i in range(0, len(ROWS), 700):
        writer.write(ROWS[i : i + 700])
    with engine.connect() as conn:
        assert conn.execute(text("SELECT to_regclass('ix_spans_text')")).scalar() is not None
    yield TraceQueries(engine)
    engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("term", ["lookup_order", "RateLimited", "no such words", "claude"])
@pytest.mark.parametrize("index_limit", [2_000, 5])
def test_text_search_through_the_index_finds_what_the_scan_finds(
    stores: dict[str, TraceQueries],
    indexed: TraceQueries,
    monkeypatch: pytest.MonkeyPatch,
    term: str,
    index_limit: int,
) -> None:
    monkeypatch.setattr("observability.queries.INDEXED_TEXT_MATCHES", index_limit)
    filters = TraceFilters(start=START + timedelta(hours=6), end=WINDOW.end, text=term)
    scanned = stores["postgresql"].list_traces(filters, page_size=500).traces
    found = indexed.list_traces(filters, page_size=500).traces
    _same(found, scanned)
    assert term == "no such words" or not found.empty


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "indexed"])
def test_text_search_takes_wildcards_literally_and_ignores_nul(
    stores: dict[str, TraceQueries], indexed: TraceQueries, backend: str
) -> None:
    queries = indexed if backend == "indexed" else stores[backend]

    def found(term: str) -> set[str]:
        page = queries.list_traces(TraceFilters(text=term), page_size=5_000)
        return set(page.traces["trace_id"])

    plain = found("lookup_order")
    assert plain
    assert found("look_p_order") == set()
    assert found("lookup%order") == set()
    assert found("lookup\x00_order") == plain
    assert found("lookup_order\ud800") == plain
    assert len(found("\x00")) == len(found(""))


def test_a_store_that_does_not_answer_is_one_sentence() -> None:
    from observability.queries import TraceStoreUnavailable

    queries = TraceQueries(create_store_engine("postgresql://nobody@127.0.0.1:1/none"))

    with pytest.raises(TraceStoreUnavailable, match=r"^The trace store did not answer \(\w+\);"):
        queries.list_traces(TraceFilters(text="refund"))
    with pytest.raises(TraceStoreUnavailable):
        queries.trace_spans("0" * 32)
