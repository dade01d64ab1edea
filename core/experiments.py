"""A/B experiments: named variants (a route and a system prompt) with a traffic split, the
metric that decides them and a minimum sample, stored in the app DB.

An experiment is a draft until started (``create_experiment(..., start=False)``, then
``start_experiment``), runs, and is ended (``end_experiment``); ``create_experiment`` starts it at
once unless told otherwise. A user's variant is chosen deterministically — sha256 of experiment
and user mapped to [0, 1) and laid over the cumulative weights — and then persisted in
``ExperimentAssignment``, so the user keeps it even when the split changes later
(``set_split``). The engine stamps the variant on every span of a turn; ``analysis_spec`` hands
the definition to ``observability.insights``, which compares the variants by those stamps.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, col, select

from core.db.models import Experiment, ExperimentAssignment, utcnow
from core.errors import ObservatoryError, StorageError
from observability.insights import ExperimentSpec, Metric


class ExperimentError(ObservatoryError):
    """An experiment is missing, ended or defined wrongly; the message says what to change."""


@dataclass(frozen=True)
class Variant:
    """One arm of an experiment: a route (models tried in order) and/or a system prompt
    addition. ``model`` is the route's first model; give either."""

    name: str
    model: str | None = None
    prompt: str | None = None
    weight: float = 1.0
    route: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        route = tuple(m.strip() for m in self.route if m.strip())
        if not route and self.model:
            route = (self.model,)
        object.__setattr__(self, "route", route)
        object.__setattr__(self, "model", route[0] if route else None)


class ExperimentStatus(StrEnum):
    """Where an experiment is in its life."""

    DRAFT = "draft"
    RUNNING = "running"
    ENDED = "ended"


@dataclass(frozen=True)
class ExperimentInfo:
    """An experiment as stored."""

    name: str
    description: str
    variants: tuple[Variant, ...]
    active: bool
    created_at: datetime
    metric: Metric = Metric.COST_PER_CONVERSATION
    min_sample: int = 100
    started_at: datetime | None = None
    ended_at: datetime | None = None

    @property
    def status(self) -> ExperimentStatus:
        """Draft, running or ended."""
        if self.active:
            return ExperimentStatus.RUNNING
        return (
            ExperimentStatus.ENDED if self.ended_at or self.started_at else ExperimentStatus.DRAFT
        )


@dataclass(frozen=True)
class Assignment:
    """The variant a user is in, with what it changes."""

    experiment: str
    variant: str
    model: str | None
    prompt: str | None
    route: tuple[str, ...] = ()


def bucket_of(experiment_name: str, user_id: int | str) -> float:
    """The user's fixed position in [0, 1) for this experiment (sha256 of both)."""
    digest = hashlib.sha256(f"{experiment_name}\x1f{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def pick_variant(experiment_name: str, variants: Sequence[Variant], user_id: int | str) -> Variant:
    """The variant a new user falls into under the current split (no database involved)."""
    total = sum(v.weight for v in variants)
    point = bucket_of(experiment_name, user_id) * total
    running = 0.0
    for variant in variants:
        running += variant.weight
        if point < running and variant.weight > 0:
            return variant
    return next(v for v in reversed(variants) if v.weight > 0)


def create_experiment(
    engine: Engine,
    name: str,
    variants: Sequence[Variant],
    description: str = "",
    *,
    metric: Metric = Metric.COST_PER_CONVERSATION,
    min_sample: int = 100,
    start: bool = True,
) -> ExperimentInfo:
    """Store a new experiment, running unless ``start`` is false (then a draft to start
    later); raises ``ExperimentError`` with what to fix if invalid."""
    name = name.strip()
    if not name:
        raise ExperimentError("Give the experiment a name.")
    _check_variants(variants)
    if min_sample < 2:
        raise ExperimentError("The minimum sample must be at least 2 conversations per variant.")
    row = Experiment(
        name=name,
        description=description,
        variants=_to_json(variants),
        metric=Metric(metric).value,
        min_sample=min_sample,
        active=start,
        started_at=utcnow() if start else None,
    )
    with _GuardedSession(engine) as session:
        if session.exec(select(Experiment).where(Experiment.name == name)).first():
            raise ExperimentError(
                f"An experiment called “{name}” already exists (names stay taken after an "
                "experiment ends); pick another name."
            )
        session.add(row)
        session.commit()
        return _info(row)


def list_experiments(engine: Engine, active_only: bool = True) -> list[ExperimentInfo]:
    """Experiments, newest first; only running ones unless ``active_only`` is false."""
    statement = select(Experiment).order_by(col(Experiment.created_at).desc(), col(Experiment.id))
    if active_only:
        statement = statement.where(col(Experiment.active).is_(True))
    with _GuardedSession(engine) as session:
        return [_info(row) for row in session.exec(statement)]


def get_experiment(engine: Engine, name: str) -> ExperimentInfo:
    """The experiment called ``name``; ``ExperimentError`` if there is none."""
    with _GuardedSession(engine) as session:
        return _info(_load(session, name))


def set_split(engine: Engine, name: str, weights: Mapping[str, float]) -> ExperimentInfo:
    """Change the traffic split for new users; users already assigned keep their variant."""
    with _GuardedSession(engine) as session:
        row = _load(session, name)
        variants = _from_json(row.variants)
        unknown = set(weights) - {v.name for v in variants}
        if unknown:
            raise ExperimentError(
                f"{name} has no variant called {', '.join(sorted(unknown))}; "
                f"its variants are {', '.join(v.name for v in variants)}."
            )
        changed = [
            Variant(v.name, prompt=v.prompt, weight=weights.get(v.name, v.weight), route=v.route)
            for v in variants
        ]
        _check_variants(changed)
        row.variants = _to_json(changed)
        session.add(row)
        session.commit()
        return _info(row)


def start_experiment(engine: Engine, name: str) -> ExperimentInfo:
    """Start a draft: new users are assigned from now on and the analysis counts from now."""
    with _GuardedSession(engine) as session:
        row = _load(session, name)
        if row.active:
            raise ExperimentError(f"“{name}” is already running.")
        if row.started_at is not None:
            raise ExperimentError(
                f"“{name}” has ended and cannot run again; create a new experiment instead."
            )
        row.active, row.started_at = True, utcnow()
        session.add(row)
        session.commit()
        return _info(row)


def end_experiment(engine: Engine, name: str) -> ExperimentInfo:
    """Stop assigning users to ``name``; its assignments stay for analysis."""
    with _GuardedSession(engine) as session:
        row = _load(session, name)
        if row.active:
            row.ended_at = utcnow()
        row.active = False
        session.add(row)
        session.commit()
        return _info(row)


def analysis_spec(info: ExperimentInfo) -> ExperimentSpec:
    """What ``observability.insights.analyse_experiment`` needs: the variants (the first is the
    control), the deciding metric, the minimum sample and the period it ran."""
    return ExperimentSpec(
        name=info.name,
        variants=tuple(v.name for v in info.variants),
        metric=info.metric,
        min_sample=info.min_sample,
        start=info.started_at,
        end=info.ended_at,
    )


def assign_variant(engine: Engine, experiment_name: str, user_id: int) -> Assignment:
    """The user's variant in a running experiment: the stored one, or a new one chosen by hash."""
    with _GuardedSession(engine) as session:
        row = _load(session, experiment_name)
        if not row.active:
            state = "has ended" if row.started_at else "has not started yet"
            raise ExperimentError(
                f"The experiment “{experiment_name}” {state}; choose a route or another experiment."
            )
        variants = {v.name: v for v in _from_json(row.variants)}
        stored = _stored_variant(session, row.id or 0, user_id)
        if stored is None:
            stored = _store_assignment(session, row, user_id, list(variants.values()))
        variant = variants[stored]
        return Assignment(row.name, variant.name, variant.model, variant.prompt, variant.route)


def count_assignments(engine: Engine, experiment_name: str) -> dict[str, int]:
    """How many users each variant of the experiment holds (every variant listed)."""
    with _GuardedSession(engine) as session:
        row = _load(session, experiment_name)
        names = session.exec(
            select(ExperimentAssignment.variant).where(ExperimentAssignment.experiment_id == row.id)
        )
        counts = Counter(names)
        return {v.name: counts[v.name] for v in _from_json(row.variants)}


def _store_assignment(
    session: Session, row: Experiment, user_id: int, variants: list[Variant]
) -> str:
    chosen = pick_variant(row.name, variants, user_id).name
    session.add(ExperimentAssignment(experiment_id=row.id or 0, user_id=user_id, variant=chosen))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        winner = _stored_variant(session, row.id or 0, user_id)
        if winner is None:
            raise ExperimentError(
                f"User {user_id} does not exist, so they cannot join “{row.name}”."
            ) from None
        return winner
    return chosen


def _stored_variant(session: Session, experiment_id: int, user_id: int) -> str | None:
    statement = select(ExperimentAssignment.variant).where(
        ExperimentAssignment.experiment_id == experiment_id,
        ExperimentAssignment.user_id == user_id,
    )
    return session.exec(statement).first()


def _check_variants(variants: Sequence[Variant]) -> None:
    if len(variants) < 2:
        raise ExperimentError("An experiment needs at least two variants to compare.")
    names = [v.name.strip() for v in variants]
    if not all(names):
        raise ExperimentError("Every variant needs a name.")
    repeated = sorted(n for n, c in Counter(names).items() if c > 1)
    if repeated:
        raise ExperimentError(f"Variant names must be unique; “{repeated[0]}” is used twice.")
    if any(not math.isfinite(v.weight) or v.weight < 0 for v in variants):
        raise ExperimentError("Variant weights must be zero or positive numbers.")
    if sum(v.weight for v in variants) <= 0:
        raise ExperimentError("The variant weights must add up to more than zero.")


def _load(session: Session, name: str) -> Experiment:
    row = session.exec(select(Experiment).where(Experiment.name == name)).first()
    if row is None:
        raise ExperimentError(
            f"There is no experiment called “{name}”; create it first or pick one from the list."
        )
    return row


def _to_json(variants: Sequence[Variant]) -> list[dict[str, Any]]:
    return [
        {
            "name": v.name.strip(),
            "weight": v.weight,
            "route": list(v.route),
            "prompt": v.prompt,
        }
        for v in variants
    ]


def _from_json(items: list[dict[str, Any]]) -> list[Variant]:
    return [
        Variant(
            name=item["name"],
            prompt=item.get("prompt"),
            weight=float(item["weight"]),
            route=tuple(item.get("route") or ()),
        )
        for item in items
    ]


def _info(row: Experiment) -> ExperimentInfo:
    return ExperimentInfo(
        name=row.name,
        description=row.description,
        variants=tuple(_from_json(row.variants)),
        active=row.active,
        created_at=row.created_at,
        metric=Metric(row.metric),
        min_sample=row.min_sample,
        started_at=row.started_at,
        ended_at=row.ended_at,
    )


class _GuardedSession(Session):
    """A session whose database errors become a ``StorageError`` sentence."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine, expire_on_commit=False)

    def __exit__(self, kind: Any, value: Any, traceback: Any) -> None:
        super().__exit__(kind, value, traceback)
        if isinstance(value, SQLAlchemyError):
            raise StorageError(
                "The experiments table could not be read or written; check the database "
                "connection and try again."
            ) from value
