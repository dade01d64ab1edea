"""Experiments on SQLite and PostgreSQL: validation, sticky assignment, traffic split."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from core.db import create_db_engine, init_schema
from core.db.models import User
from core.experiments import (
    ExperimentError,
    ExperimentStatus,
    Variant,
    analysis_spec,
    assign_variant,
    count_assignments,
    create_experiment,
    end_experiment,
    get_experiment,
    list_experiments,
    pick_variant,
    set_split,
    start_experiment,
)
from observability.insights import Metric

CONTROL = Variant("control", model="gpt-4o-mini", weight=50)
CANDIDATE = Variant("haiku", model="claude-3-5-haiku", prompt="Be brief.", weight=50)


@pytest.fixture
def db(database_url: str) -> Engine:
    engine = create_db_engine(database_url)
    init_schema(engine)
    return engine


def _users(engine: Engine, count: int) -> list[int]:
    users = [User(name=f"User {n}", email=f"user{n}@example.com") for n in range(count)]
    with Session(engine, expire_on_commit=False) as session:
        session.add_all(users)
        session.commit()
    return [u.id or 0 for u in users]


def test_created_experiment_is_listed_with_its_variants(db: Engine) -> None:
    create_experiment(db, "model-ab", [CONTROL, CANDIDATE], description="mini vs haiku")

    (listed,) = list_experiments(db)

    assert listed.name == "model-ab" and listed.active
    assert listed.variants == (CONTROL, CANDIDATE)
    assert listed.description == "mini vs haiku"


def test_assignment_is_sticky_and_carries_model_and_prompt(db: Engine) -> None:
    create_experiment(db, "model-ab", [CONTROL, CANDIDATE])
    (user,) = _users(db, 1)

    first = assign_variant(db, "model-ab", user)
    again = assign_variant(db, "model-ab", user)

    assert first == again
    expected = CONTROL if first.variant == "control" else CANDIDATE
    assert (first.model, first.prompt) == (expected.model, expected.prompt)
    assert count_assignments(db, "model-ab")[first.variant] == 1


def test_changed_split_keeps_existing_users_and_moves_new_ones(db: Engine) -> None:
    create_experiment(db, "model-ab", [CONTROL, CANDIDATE])
    users = _users(db, 40)
    before = {u: assign_variant(db, "model-ab", u).variant for u in users[:20]}

    set_split(db, "model-ab", {"control": 0, "haiku": 1})

    assert {u: assign_variant(db, "model-ab", u).variant for u in users[:20]} == before
    assert {assign_variant(db, "model-ab", u).variant for u in users[20:]} == {"haiku"}
    assert "control" in before.values()


def test_ended_experiment_leaves_the_list_and_refuses_assignments(db: Engine) -> None:
    create_experiment(db, "model-ab", [CONTROL, CANDIDATE])
    (user,) = _users(db, 1)

    end_experiment(db, "model-ab")

    assert list_experiments(db) == []
    assert [e.name for e in list_experiments(db, active_only=False)] == ["model-ab"]
    with pytest.raises(ExperimentError, match="has ended"):
        assign_variant(db, "model-ab", user)


@pytest.mark.parametrize(
    ("variants", "message"),
    [
        ([CONTROL], "at least two variants"),
        ([CONTROL, Variant("control")], "must be unique"),
        ([Variant("a", weight=0), Variant("b", weight=0)], "more than zero"),
        ([Variant("a", weight=-1), Variant("b")], "zero or positive"),
        ([Variant(" "), Variant("b")], "needs a name"),
    ],
)
def test_invalid_variants_are_refused_with_a_sentence(
    db: Engine, variants: list[Variant], message: str
) -> None:
    with pytest.raises(ExperimentError, match=message):
        create_experiment(db, "bad", variants)

    assert list_experiments(db, active_only=False) == []


def test_duplicate_name_and_unknown_experiment_are_refused(db: Engine) -> None:
    create_experiment(db, "model-ab", [CONTROL, CANDIDATE])

    with pytest.raises(ExperimentError, match="already exists"):
        create_experiment(db, "model-ab", [CONTROL, CANDIDATE])
    with pytest.raises(ExperimentError, match="no experiment called"):
        assign_variant(db, "missing", 1)
    with pytest.raises(ExperimentError, match="no variant called turbo"):
        set_split(db, "model-ab", {"turbo": 1})


def test_unknown_user_cannot_join(db: Engine) -> None:
    create_experiment(db, "model-ab", [CONTROL, CANDIDATE])

    with pytest.raises(ExperimentError, match="does not exist"):
        assign_variant(db, "model-ab", 999_999)


@pytest.mark.parametrize("weights", [(50, 50), (70, 30), (1, 2, 7)])
def test_split_over_ten_thousand_users_is_within_two_points(weights: tuple[int, ...]) -> None:
    variants = [Variant(f"v{n}", weight=w) for n, w in enumerate(weights)]

    counts = Counter(pick_variant("split-test", variants, user).name for user in range(10_000))

    for variant in variants:
        share = counts[variant.name] / 10_000
        assert share == pytest.approx(variant.weight / sum(weights), abs=0.02)


def test_assignment_depends_on_the_experiment_not_only_the_user() -> None:
    variants = [Variant("a"), Variant("b")]

    first = [pick_variant("exp-1", variants, user).name for user in range(200)]
    second = [pick_variant("exp-2", variants, user).name for user in range(200)]

    assert first != second


def test_draft_is_started_then_ended_with_its_times(db: Engine) -> None:
    draft = create_experiment(
        db, "prompt-ab", [CONTROL, CANDIDATE], metric=Metric.THUMBS_UP_RATE, min_sample=250,
        start=False,
    )  # fmt: skip
    (user,) = _users(db, 1)

    assert draft.status is ExperimentStatus.DRAFT and list_experiments(db) == []
    with pytest.raises(ExperimentError, match="has not started yet"):
        assign_variant(db, "prompt-ab", user)
    running = start_experiment(db, "prompt-ab")
    assert running.status is ExperimentStatus.RUNNING and running.started_at is not None
    assign_variant(db, "prompt-ab", user)
    ended = end_experiment(db, "prompt-ab")

    assert ended.status is ExperimentStatus.ENDED
    assert ended.started_at is not None and ended.ended_at is not None
    assert ended.started_at <= ended.ended_at
    with pytest.raises(ExperimentError, match="cannot run again"):
        start_experiment(db, "prompt-ab")
    spec = analysis_spec(get_experiment(db, "prompt-ab"))
    assert spec.variants == ("control", "haiku")
    assert (spec.metric, spec.min_sample) == (Metric.THUMBS_UP_RATE, 250)
    assert (spec.start, spec.end) == (ended.started_at, ended.ended_at)


def test_variant_route_and_prompt_are_kept_and_assigned(db: Engine) -> None:
    routed = Variant("cheap", route=("claude-haiku-4-5", "gpt-4o-mini"), prompt="Be brief.")
    create_experiment(db, "route-ab", [CONTROL, routed])
    users = _users(db, 30)

    (stored,) = list_experiments(db)
    assignments = [assign_variant(db, "route-ab", u) for u in users]

    assert stored.variants[1] == routed and stored.variants[1].model == "claude-haiku-4-5"
    assert stored.metric is Metric.COST_PER_CONVERSATION and stored.min_sample == 100
    cheap = next(a for a in assignments if a.variant == "cheap")
    assert cheap.route == ("claude-haiku-4-5", "gpt-4o-mini") and cheap.prompt == "Be brief."


def test_too_small_minimum_sample_is_refused(db: Engine) -> None:
    with pytest.raises(ExperimentError, match="at least 2"):
        create_experiment(db, "tiny", [CONTROL, CANDIDATE], min_sample=1)
