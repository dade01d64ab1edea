"""The insight panels drawn by ``AppTest.from_function`` over a real trace store."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.experiments import ExperimentInfo, Variant
from observability.insights import Metric
from observability.queries import Window
from tests.observability.insights.store import Turn, open_store, write_turns

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
STARTED = NOW - timedelta(days=2)


def _experiments_panel(url: str, experiments: list[object], start: str, end: str) -> None:
    from datetime import datetime

    from sqlalchemy import create_engine

    from core.settings import InsightSettings
    from observability.queries import Window
    from pages._shared.insights_panels import render_experiments

    window = Window(datetime.fromisoformat(start), datetime.fromisoformat(end))
    render_experiments(create_engine(url), experiments, window, InsightSettings())  # type: ignore[arg-type]


def _experiment(**changes: object) -> ExperimentInfo:
    values: dict[str, object] = {
        "name": "model-ab",
        "description": "",
        "variants": (Variant("A", model="gpt-4o"), Variant("B", model="gpt-4o-mini")),
        "active": True,
        "created_at": STARTED,
        "metric": Metric.COST_PER_CONVERSATION,
        "min_sample": 50,
        "started_at": STARTED,
        "ended_at": None,
    }
    return ExperimentInfo(**(values | changes))  # type: ignore[arg-type]


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'traces.db'}"
    rng = random.Random(3)
    turns = []
    for variant, cost in (("A", 0.01), ("B", 0.003)):
        for n in range(120):
            turns.append(
                Turn(
                    at=STARTED + timedelta(minutes=rng.uniform(0, 2800)),
                    conversation=f"{variant}-{n}",
                    user=f"u-{variant}-{n}",
                    cost=rng.gauss(cost, cost * 0.2),
                    vote=1 if rng.random() < 0.85 else -1,
                    experiment="model-ab",
                    variant=variant,
                )
            )
    write_turns(open_store(url), turns)
    return url


def _run(url: str, experiments: list[ExperimentInfo]) -> AppTest:
    window = Window(NOW - timedelta(days=7), NOW)
    at = AppTest.from_function(
        _experiments_panel,
        args=(url, experiments, window.start.isoformat(), window.end.isoformat()),
        default_timeout=60,
    )
    return at.run()


def test_experiment_panel_shows_verdict_variants_and_tests(store_url: str) -> None:
    at = _run(store_url, [_experiment()])

    assert not at.exception, at.exception
    verdict = at.success[0].value
    assert verdict.startswith("B costs 7") and "% less per conversation than A" in verdict
    variants, tests = (d.value for d in at.dataframe)
    assert list(variants["variant"]) == ["A", "B"]
    assert list(variants["conversations"]) == [120, 120]
    assert variants["cost / conversation"][1].startswith("$0.003")
    cost_test = tests[tests["metric"] == "cost per conversation"].iloc[0]
    assert (cost_test["test"], cost_test["significant"]) == ("Welch's t-test", "yes")


def test_no_experiment_in_the_range_says_so(store_url: str) -> None:
    draft = _experiment(active=False, started_at=None)

    at = _run(store_url, [draft])

    assert not at.exception, at.exception
    assert "No experiment ran in this range" in at.info[0].value


def test_unreachable_store_is_one_sentence(tmp_path: Path) -> None:
    at = _run("postgresql+psycopg://nobody@127.0.0.1:1/none", [_experiment()])

    assert not at.exception, at.exception
    assert "trace store did not answer" in at.warning[0].value


def _anomalies_panel(url: str, start: str, end: str, budget: float) -> None:
    from datetime import datetime

    from sqlalchemy import create_engine

    from core.settings import InsightSettings
    from observability.queries import Window
    from pages._shared.insights_panels import render_anomalies

    window = Window(datetime.fromisoformat(start), datetime.fromisoformat(end))
    settings = InsightSettings(daily_budget_usd=budget)
    render_anomalies(create_engine(url), window, settings)


def test_anomaly_panel_shows_the_outage_with_its_traces_link(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'traces.db'}"
    begin = NOW - timedelta(minutes=130)
    turns = [
        Turn(
            at=begin + timedelta(minutes=minute, seconds=n * 2),
            conversation=f"c-{minute}-{n}",
            user=f"user-{n % 5}",
            latency_ms=800 * (3 if 100 <= minute < 110 else 1) + n,
            fallback_from="gpt-4o-mini" if 100 <= minute < 110 else None,
        )
        for minute in range(130)
        for n in range(25)
    ]
    write_turns(open_store(url), turns)
    window = Window(NOW - timedelta(hours=1), NOW)

    at = AppTest.from_function(
        _anomalies_panel,
        args=(url, window.start.isoformat(), window.end.isoformat(), 5.0),
        default_timeout=60,
    ).run()

    assert not at.exception, at.exception
    incidents, budgets = (d.value for d in at.dataframe)
    latency = incidents[incidents["signal"] == "p95 latency"].iloc[0]
    assert latency["state"] == "🔴 alert"
    assert latency["size"].endswith("× its baseline for 10 min")
    assert latency["traces"].startswith("/traces?start=")
    assert set(incidents["signal"]) == {"p95 latency", "fallback rate", "error rate"}
    assert budgets["state"][0] == "🟢 ok"
    assert budgets["budget"][0].startswith("overall: $")
    assert [m.label for m in at.metric] == [
        "🟢 cost", "🟢 p95 latency", "🟢 error rate", "🟢 fallback rate",
    ]  # fmt: skip


def _admin_page() -> AppTest:
    from core.db.models import Role
    from tests.pages.conftest import APP

    at = AppTest.from_file(APP, default_timeout=180).run()
    assert not at.exception, at.exception
    at.session_state["role"] = Role.ADMIN
    at.run()
    at.switch_page("pages/admin.py").run()
    assert not at.exception, at.exception
    return at


def _table_with(at: AppTest, column: str) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_admin_creates_starts_and_ends_an_experiment(app_env: Path) -> None:
    at = _admin_page()

    at.text_input(key="admin_experiment_name").set_value("tone-ab")
    at.text_input(key="admin_experiment_description").set_value("shorter answers")
    next(b for b in at.button if b.label == "Create experiment").click().run()
    assert not at.exception, at.exception
    assert at.success[0].value == "“tone-ab” saved as a draft."
    table = _table_with(at, "decided on")
    assert table.iloc[0]["state"] == "draft"
    assert "control (50): gpt-4o-mini" in table.iloc[0]["variants"]

    at.button(key="admin_start_tone-ab").click().run()
    assert at.success[0].value == "“tone-ab” started."
    assert _table_with(at, "decided on").iloc[0]["state"] == "running"
    at.button(key="admin_end_tone-ab").click().run()
    assert _table_with(at, "decided on").iloc[0]["state"] == "ended"


def test_admin_sets_a_price_and_a_budget(app_env: Path) -> None:
    at = _admin_page()
    price_form = [t for t in at.text_input if t.label in ("Model", "Input", "Output")]
    for widget, value in zip(price_form, ("acme-7b", "0.20", "0.80"), strict=True):
        widget.set_value(value)
    next(b for b in at.button if b.label == "Save price").click().run()

    assert not at.exception, at.exception
    assert "acme-7b is priced at $0.20 / $0.80 per 1M tokens" in at.success[0].value
    overrides = _table_with(at, "1-hour write")
    assert list(overrides["model"]) == ["acme-7b"] and overrides["input"][0] == "$0.20"

    next(n for n in at.number_input if n.label.startswith("$ per day")).set_value(12.5)
    next(b for b in at.button if b.label == "Save budget").click().run()

    assert at.success[0].value == "Budget of overall saved."
    budgets = _table_with(at, "per day")
    assert budgets["per day"].tolist() == ["$12.50", "not set"]


def test_admin_is_told_what_is_wrong_with_a_price(app_env: Path) -> None:
    at = _admin_page()
    next(t for t in at.text_input if t.label == "Model").set_value("acme-7b")
    next(t for t in at.text_input if t.label == "Input").set_value("cheap")
    next(b for b in at.button if b.label == "Save price").click().run()

    assert not at.exception, at.exception
    assert "must be a number of dollars per 1M tokens" in at.error[0].value


def _recommendations_panel(url: str, start: str, end: str) -> None:
    from datetime import datetime

    from sqlalchemy import create_engine

    from core.settings import InsightSettings
    from observability.queries import Window
    from pages._shared.insights_panels import render_recommendations

    window = Window(datetime.fromisoformat(start), datetime.fromisoformat(end))
    render_recommendations(create_engine(url), window, InsightSettings())


def test_recommendations_panel_shows_each_with_its_money(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'traces.db'}"
    begin = NOW - timedelta(hours=5)
    turns = [
        Turn(
            at=begin + timedelta(minutes=n),
            conversation=f"c-{n}",
            user=f"u-{n % 4}",
            question="How do I return boots?" if n % 3 == 0 else f"question {n}",
            cache_hit=False,
            cost=0.002,
            input_tokens=12_000 if n % 5 == 0 else 1_000,
            fallback_from="gpt-4o-mini" if n % 8 == 0 else None,
        )
        for n in range(200)
    ]
    write_turns(open_store(url), turns)
    window = Window(NOW - timedelta(days=1), NOW)

    at = AppTest.from_function(
        _recommendations_panel,
        args=(url, window.start.isoformat(), window.end.isoformat()),
        default_timeout=60,
    ).run()

    assert not at.exception, at.exception
    titles = [m.value for m in at.markdown if m.value.startswith("**")]
    assert titles == [
        "**Cache answers to repeated questions**",
        "**Fix or replace the failing primary gpt-4o-mini**",
        "**Trim long prompts**",
    ]
    # 67 asks of one question: 66 repeats at $0.002; 25 fallbacks at $0.002 where gpt-4o-mini
    # charges $0.00021; 40 prompts of 12,000 tokens trimmed to 6,400 at $0.15 per 1M
    assert [m.value for m in at.metric] == ["$0.13", "$0.04", "$0.03"]
    assert all(m.label == "saves in this range" for m in at.metric)
    assert "[Open the traces of this range](/traces?start=" in at.markdown[-1].value


def test_recommendations_panel_says_when_nothing_is_supported(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'traces.db'}"
    open_store(url)
    window = Window(NOW - timedelta(days=1), NOW)

    at = AppTest.from_function(
        _recommendations_panel,
        args=(url, window.start.isoformat(), window.end.isoformat()),
        default_timeout=60,
    ).run()

    assert not at.exception, at.exception
    assert at.info[0].value.startswith("Nothing to recommend for this range")
