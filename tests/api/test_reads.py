"""The read endpoints answer what the spans hold: paging, cursors, filters, and/or search,
fields, ETag/304, and the analytics the query layer computes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bench._spans import generate_spans
from tests.api.conftest import ApiHarness, build_harness, load_spans

START = datetime(2026, 10, 1, tzinfo=UTC)
SPANS = list(generate_spans(1_500, seed=5, start=START, days=1))
WINDOW = {"start": START.isoformat(), "end": (START + timedelta(days=2)).isoformat()}
CHATS = [s for s in SPANS if (s.attributes or {}).get("gen_ai.operation.name") == "chat"]


@pytest.fixture
def loaded(database_url: str, tmp_path: Path) -> Iterator[ApiHarness]:
    """The API over 1,500 generated spans, on SQLite and PostgreSQL."""
    for harness in build_harness(database_url, tmp_path):
        load_spans(harness, SPANS)
        yield harness


def _get(h: ApiHarness, path: str, **params: object) -> dict:
    answer = h.http.get(path, params=params, headers=h.auth())
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_offset_and_cursor_pages_walk_the_same_newest_first_list(loaded: ApiHarness) -> None:
    traces = {s.context.trace_id for s in SPANS}
    first = _get(loaded, "/api/v1/traces", limit=200)
    by_offset = [row["trace_id"] for row in first["data"]]
    cursor = first["paging"]["next_cursor"]
    by_cursor = list(by_offset)
    while cursor:
        page = _get(loaded, "/api/v1/traces", limit=200, cursor=cursor)
        by_cursor += [row["trace_id"] for row in page["data"]]
        cursor = page["paging"]["next_cursor"]
    assert len(by_cursor) == len(traces) == len(set(by_cursor))
    second = _get(loaded, "/api/v1/traces", limit=200, offset=200)
    assert [row["trace_id"] for row in second["data"]] == by_cursor[200:400]
    starts = [row["start_time"] for row in first["data"]]
    assert starts == sorted(starts, reverse=True)


def test_limit_above_1000_is_refused(loaded: ApiHarness) -> None:
    answer = loaded.http.get("/api/v1/traces", params={"limit": 1001}, headers=loaded.auth())
    assert answer.status_code == 422
    assert answer.json()["error"]["details"]["problems"][0]["field"] == "query.limit"


def test_filters_and_fields(loaded: ApiHarness) -> None:
    page = _get(loaded, "/api/v1/traces", model="gpt-4o", limit=1000, fields="trace_id,model")
    assert page["data"] and all(set(r) == {"trace_id", "model"} for r in page["data"])
    expected = {
        s.context.trace_id for s in CHATS if s.attributes["gen_ai.request.model"] == "gpt-4o"
    }
    assert {int(r["trace_id"], 16) for r in page["data"]} == expected
    errors = _get(loaded, "/api/v1/traces", status="error", limit=1000)["data"]
    assert errors and all(r["status"] == "error" for r in errors)
    dear = _get(loaded, "/api/v1/traces", min_cost_usd=0.02, limit=1000)["data"]
    assert all(r["cost_usd"] >= 0.02 for r in dear)
    answer = loaded.http.get("/api/v1/traces", params={"fields": "trace_id,nope"},
                             headers=loaded.auth())  # fmt: skip
    assert answer.status_code == 400
    assert answer.json()["error"]["details"]["unknown_fields"] == ["nope"]


def test_search_combines_filter_groups_with_and_or_or(loaded: ApiHarness) -> None:
    def search(operator: str, *groups: dict) -> set[str]:
        body = {"operator": operator, "filters": list(groups), "limit": 1000}
        answer = loaded.http.post("/api/v1/traces/search", json=body, headers=loaded.auth())
        assert answer.status_code == 200, answer.text
        return {r["trace_id"] for r in answer.json()["data"]}

    openai = search("and", {"provider": "openai"})
    anthropic = search("and", {"provider": "anthropic"})
    assert openai and anthropic
    assert search("or", {"provider": "openai"}, {"provider": "anthropic"}) == openai | anthropic
    assert search("and", {"provider": "openai"}, {"status": "error"}) == openai & search(
        "and", {"status": "error"}
    )


def test_trace_by_id_has_its_spans_and_unknown_is_404(loaded: ApiHarness) -> None:
    trace_id = SPANS[0].context.trace_id
    hex_id = format(trace_id, "032x")
    detail = _get(loaded, f"/api/v1/traces/{hex_id}")
    assert detail["trace"]["trace_id"] == hex_id
    assert len(detail["spans"]) == sum(1 for s in SPANS if s.context.trace_id == trace_id)
    missing = loaded.http.get(f"/api/v1/traces/{'0' * 31}1", headers=loaded.auth())
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_etag_and_last_modified_answer_304(loaded: ApiHarness) -> None:
    headers = loaded.auth()
    first = loaded.http.get("/api/v1/traces", headers=headers)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    again = loaded.http.get("/api/v1/traces", headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    since = loaded.http.get("/api/v1/traces", headers={**headers, "If-Modified-Since": modified})
    assert since.status_code == 304
    other = loaded.http.get("/api/v1/traces", params={"limit": 3},
                            headers={**headers, "If-None-Match": etag})  # fmt: skip
    assert other.status_code == 200 and other.headers["ETag"] != etag


def test_performance_counts_every_call_and_groups_by_model(loaded: ApiHarness) -> None:
    total = _get(loaded, "/api/v1/metrics/performance", granularity="day", **WINDOW)
    assert sum(r["requests"] for r in total["data"]) == len(CHATS)
    row = total["data"][0]
    assert row["p50_ms"] <= row["p95_ms"] <= row["p99_ms"]
    by_model = _get(loaded, "/api/v1/metrics/performance", group_by="model", **WINDOW)
    counted = Counter()
    for r in by_model["data"]:
        counted[r["model"]] += r["requests"]
    chats = Counter(
        s.attributes.get("gen_ai.response.model") or s.attributes["gen_ai.request.model"]
        for s in CHATS
    )
    assert counted == chats


def test_costs_add_up_to_the_spans(loaded: ApiHarness) -> None:
    spent = sum(s.attributes.get("observatory.cost.usd", 0.0) for s in CHATS)
    over_time = _get(loaded, "/api/v1/costs/analytics", granularity="hour", **WINDOW)
    assert sum(r["cost_usd"] for r in over_time["data"]) == pytest.approx(spent)
    by_model = _get(loaded, "/api/v1/costs/breakdown", by="model", **WINDOW)["data"]
    assert sum(r["cost_usd"] for r in by_model) == pytest.approx(spent)
    assert [r["cost_usd"] for r in by_model] == sorted(
        (r["cost_usd"] for r in by_model), reverse=True
    )
    customers = _get(loaded, "/api/v1/costs/breakdown", by="customer", limit=5, **WINDOW)["data"]
    assert len(customers) == 5 and "customer" in customers[0]


def test_models_compare_side_by_side(loaded: ApiHarness) -> None:
    rows = {r["model"]: r for r in _get(loaded, "/api/v1/models/compare", **WINDOW)["data"]}
    gpt = [s for s in CHATS if s.attributes.get("gen_ai.response.model") == "gpt-4o-mini"]
    assert rows["gpt-4o-mini"]["requests"] >= len(gpt)
    assert rows["gpt-4o-mini"]["cost_per_request_usd"] > 0
    assert rows["custom-finetune"]["unpriced"] > 0


def test_each_endpoint_needs_its_scope(loaded: ApiHarness) -> None:
    costs_only = loaded.auth(("costs:read",))
    assert loaded.http.get("/api/v1/costs/analytics", headers=costs_only).status_code == 200
    for path in ("/api/v1/metrics/performance", "/api/v1/metrics/quality", "/api/v1/models/compare",
                 "/api/v1/traces"):  # fmt: skip
        assert loaded.http.get(path, headers=costs_only).status_code == 403, path
