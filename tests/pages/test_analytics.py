"""The Analytics page over generated spans: each chart holds the stored numbers, filters change
them and live in the URL, unpriced calls and empty ranges are said, customers are kept out."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest

from bench._spans import RESOURCE, generate_spans
from core.db.models import Role
from core.settings import load_settings
from observability.store import create_store_engine, prepare_store
from observability.store.rows import SpanRow, span_to_row
from observability.store.writer import SqlSpanWriter
from tests.pages.conftest import APP

APP_TIMEOUT_S = 180
NOW = datetime.now(UTC)
START = NOW - timedelta(hours=20)


def _annotation(trace_id: int, name: str, at: datetime, attrs: dict[str, Any]) -> ReadableSpan:
    moment = int(at.timestamp() * 1e9)
    return ReadableSpan(
        name=name,
        context=SpanContext(trace_id, random.getrandbits(64) | 1, False, TraceFlags(1)),
        parent=None,
        resource=RESOURCE,
        attributes=attrs,
        kind=SpanKind.INTERNAL,
        status=Status(StatusCode.OK),
        start_time=moment,
        end_time=moment + 1_000_000,
    )


def _turns(rows: list[SpanRow]) -> list[ReadableSpan]:
    """A turn span in each of the first 40 traces, a vote on 20 of them (15 up), an escalation
    on 4 and a redaction of an email in 6."""
    made: list[ReadableSpan] = []
    roots = [r for r in rows if r.parent_span_id is None][:40]
    for i, root in enumerate(roots):
        trace_id = int(root.trace_id, 16)
        ids = {
            "observatory.scenario": root.scenario or "",
            "observatory.user.id": root.user_id or "",
        }
        made.append(
            _annotation(
                trace_id,
                "turn",
                root.start_time,
                {**ids, "observatory.quality.score": 0.8, "observatory.turn.status": "answered"},
            )
        )
        if i < 20:
            made.append(
                _annotation(
                    trace_id,
                    "annotation feedback",
                    root.start_time,
                    {
                        "observatory.annotation.value": 1 if i < 15 else -1,
                        "observatory.annotation.made_at": NOW.isoformat(),
                    },
                )
            )
        if i < 4:
            made.append(_annotation(trace_id, "summarise_escalation", root.start_time, ids))
        if i < 6:
            made.append(
                _annotation(
                    trace_id,
                    "redact_pii",
                    root.start_time,
                    {**ids, "observatory.pii.kinds": ("email",), "observatory.pii.redactions": 1},
                )
            )
    return made


@pytest.fixture
def stored(seeded_env: Path) -> list[SpanRow]:
    """Generated spans of the last 20 hours (up to an hour ago) in the app's trace store."""
    rows = [span_to_row(s) for s in generate_spans(1_500, seed=2, start=START, days=19 / 24)]
    rows += [span_to_row(s) for s in _turns(rows)]
    engine = create_store_engine(load_settings().trace_store_url)
    SqlSpanWriter(engine, prepare_store(engine, compress_after_days=7, drop_after_days=90)).write(
        rows
    )
    engine.dispose()
    return rows


def _open(query: dict[str, str] | None = None, role: str = Role.AGENT) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT_S)
    for name, value in (query or {}).items():
        at.query_params[name] = value
    at.session_state["role"] = role
    at.run()
    at.switch_page("pages/analytics.py").run()
    assert not at.exception, at.exception
    return at


def _charts(at: AppTest) -> dict[str, list[dict[str, Any]]]:
    """Each chart's rows by its title (Streamlit sends a chart's data beside its spec)."""
    found = {}
    for element in at.get("vega_lite_chart"):
        spec = json.loads(element.proto.spec)
        frames = [convert_arrow_bytes_to_pandas_df(d.data.data) for d in element.proto.datasets]
        found[spec.get("title", "")] = [row for frame in frames for row in frame.to_dict("records")]
    return found


def _calls(rows: list[SpanRow]) -> list[SpanRow]:
    return [r for r in rows if r.operation and r.provider]


def test_each_chart_holds_the_stored_numbers(stored: list[SpanRow]) -> None:
    at = _open()
    charts = _charts(at)

    calls = _calls(stored)
    priced = [r for r in calls if r.cost_status == "priced"]
    assert sum(r["requests"] for r in charts["Requests"]) == len(calls)
    assert sum(r["cost_usd"] for r in charts["Cost (USD, priced calls)"]) == pytest.approx(
        sum(r.cost_usd or 0 for r in priced)
    )
    assert {r["model"] for r in charts["Cost (USD, priced calls)"]} == {
        r.request_model for r in priced
    }
    output = [r for r in charts["Tokens"] if r["kind"] == "output"]
    assert sum(r["tokens"] for r in output) == sum(r.output_tokens or 0 for r in calls)
    assert {r["model"] for r in charts["Latency per model (ms)"]} >= {
        r.request_model for r in priced
    }
    rates = {r["rate"] for r in charts["Errors, retries and fallbacks"]}
    assert rates == {"error rate", "retry rate", "fallback rate"}
    hits = sum(bool(r.cache_hit) for r in calls)
    assert sum(r["hit_rate"] > 0 for r in charts["Cache hit rate"]) > 0 < hits
    quality = {r["measure"]: r for r in charts["Quality of the answers"]}
    assert set(quality) == {"thumbs-up rate", "quality score", "escalation rate", "resolution rate"}
    assert charts["PII redactions by kind"] == [{"kind": "email", "texts": 6}]
    tiles = {m.label: m for m in at.metric}
    assert tiles["Requests"].value == f"{len(calls):,}"
    assert tiles["Thumbs-up rate"].value == "75.0%"
    assert "unpriced" not in tiles["Spend"].value


def test_unpriced_calls_are_counted_apart_never_as_zero(stored: list[SpanRow]) -> None:
    at = _open()

    unpriced = [r for r in _calls(stored) if r.cost_status == "unpriced"]
    assert unpriced
    tokens = sum((r.input_tokens or 0) + (r.output_tokens or 0) for r in unpriced)
    assert at.warning[0].value.startswith(
        f"{len(unpriced):,} calls ({tokens:,} tokens) had no price"
    )
    costs = _charts(at)["Cost (USD, priced calls)"]
    assert "custom-finetune" not in {r["model"] for r in costs}


def test_a_filter_changes_the_charts_and_is_kept_in_the_url(stored: list[SpanRow]) -> None:
    at = _open()
    at.selectbox(key="analytics_provider").set_value("anthropic").run()

    assert at.query_params["provider"] == "anthropic"
    anthropic = [r for r in _calls(stored) if r.provider == "anthropic"]
    requests = _charts(at)["Requests"]
    assert {r["model"] for r in requests} == {r.request_model for r in anthropic}
    assert sum(r["requests"] for r in requests) == len(anthropic)


def test_a_shared_url_opens_the_same_view(stored: list[SpanRow]) -> None:
    at = _open({"provider": "openai", "group": "provider", "range": "7 days"})

    assert at.selectbox(key="analytics_provider").value == "openai"
    assert at.selectbox(key="analytics_range").value == "7 days"
    requests = _charts(at)["Requests"]
    assert {r["provider"] for r in requests} == {"openai"}
    assert sum(r["requests"] for r in requests) == sum(
        r.provider == "openai" for r in _calls(stored)
    )


def test_an_empty_range_says_so(stored: list[SpanRow]) -> None:
    at = _open({"range": "15 min"})

    assert any("Nothing in this range" in i.value for i in at.info)
    assert not _charts(at)


def test_the_breakdowns_link_each_conversation_to_its_traces(stored: list[SpanRow]) -> None:
    at = _open()

    conversations = at.dataframe[1].value
    top = conversations.iloc[0]
    assert top["traces"] == f"traces?conversation={top['conversation_id']}"
    assert conversations.iloc[-1]["conversation_id"] == "(rest)"
    assert conversations["cost_usd"].sum() == pytest.approx(
        sum(r.cost_usd or 0 for r in _calls(stored))
    )


def test_the_export_counts_the_filtered_spans(stored: list[SpanRow]) -> None:
    at = _open({"scenario": "returns"})
    at.button(key="analytics_export").click().run()

    labels = [b.proto.label for b in at.get("download_button")]
    returns = sum(r.scenario == "returns" for r in stored)
    assert labels == [f"{fmt} ({returns:,} spans)" for fmt in ("CSV", "JSONL", "PARQUET")]


def test_customers_cannot_open_analytics(stored: list[SpanRow]) -> None:
    at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT_S)
    at.session_state["role"] = Role.CUSTOMER
    at.run()

    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/analytics.py")
    assert "Spend" not in {m.label for m in at.metric}


def test_a_conversation_link_opens_its_traces(stored: list[SpanRow]) -> None:
    conversation = next(r.conversation_id for r in stored if r.conversation_id)
    at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT_S)
    at.query_params["conversation"] = conversation
    at.session_state["role"] = Role.AGENT
    at.run()
    at.switch_page("pages/traces.py").run()

    assert not at.exception, at.exception
    table = at.dataframe[0].value
    expected = {r.trace_id for r in stored if r.conversation_id == conversation}
    assert set(table["trace_id"]) == expected
