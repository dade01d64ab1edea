"""The Scenarios page: a card per scenario, a run shows its steps, insight, totals and trace."""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest

from core.db.models import Role
from tests.pages.conftest import APP

APP_TIMEOUT_S = 240


def _scenarios_page(role: Role = Role.ADMIN) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT_S).run()
    at.session_state["role"] = role
    at.run()
    at.switch_page("pages/scenarios.py").run()
    return at


def test_every_scenario_has_a_card_with_a_run_button(seeded_env: Path) -> None:
    at = _scenarios_page(Role.AGENT)

    assert not at.exception, at.exception
    titles = [s.value for s in at.subheader]
    assert titles == [
        "Order status with RAG", "Document analysis", "Multi-model fallback", "A/B test",
        "Function calling", "Error recovery", "Context window", "PII redaction",
    ]  # fmt: skip
    assert [b.label for b in at.button].count("Run") == 8
    assert any(b.label == "Run all" for b in at.button)
    assert any("context budget of 1,500 tokens" in c.value for c in at.caption)


def test_running_the_pii_scenario_shows_its_insight_proof_and_trace(seeded_env: Path) -> None:
    at = _scenarios_page()

    at.button(key="scenarios_run_pii-redaction").click().run()

    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    insight = next(m.value for m in at.markdown if m.value.startswith("**Insight.**"))
    assert "CARD, EMAIL, PHONE" in insight
    assert "none of them reached the provider or the trace" in insight
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Provider requests"] == "clean" and metrics["Trace"] == "clean"
    assert metrics["Audit events"] == "3"
    assert any("traces?trace=" in m.value for m in at.markdown)
    chart = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    assert chart["mark"]["type"] == "bar"


def test_a_result_stays_on_the_page_after_another_click(seeded_env: Path) -> None:
    at = _scenarios_page()
    at.button(key="scenarios_run_fallback").click().run()
    served = {m.label: m.value for m in at.metric}["Served by"]
    chart = at.get("vega_lite_chart")[0].proto
    frames = [convert_arrow_bytes_to_pandas_df(d.data.data) for d in chart.datasets]
    labels = [label.strip() for frame in frames for label in frame["label"]]
    assert "attempt gpt-4o-mini #2" in labels, "each attempt has its own row"
    assert len(labels) == len(set(labels))

    at.button(key="scenarios_run_pii-redaction").click().run()

    assert not at.exception, at.exception
    metrics = [(m.label, m.value) for m in at.metric]
    assert ("Served by", served) in metrics and served.startswith("claude-haiku-4-5")
    assert any(e.label.startswith("Steps of the last run") for e in at.expander)
