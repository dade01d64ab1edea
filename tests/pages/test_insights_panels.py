"""The insight panels drawn by ``AppTest.from_function`` over a real trace store."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

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
