"""The demo history's script: who writes when, about what, and what happens to it.

A pure, seeded plan (the same days and seed give the same plan, so a second run finds every
conversation it would make already there). Conversations follow a daily rhythm in the shop's
time zone (quiet nights, busy late mornings and afternoons) and a weekly one (quieter
weekends). One incident — an OpenAI outage after a latency spike — falls on a weekday afternoon
about a third of the way back; an A/B experiment runs over the last part of the period.
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

CONVERSATIONS_PER_WEEKDAY = 200
HOURLY_WEIGHT = (
    (0.15,) * 6 + (0.3, 0.55, 0.8, 1.0, 1.15, 1.2, 1.1, 1.15, 1.2, 1.1, 0.95, 0.8)
    + (0.65, 0.55, 0.45, 0.35, 0.25, 0.2)
)  # fmt: skip
DAY_WEIGHT = (1.0, 1.05, 1.0, 0.95, 0.9, 0.6, 0.5)
"""Monday to Sunday."""
SHORT_EVERY = 16
"""The first start's short pass takes every 16th conversation (and all of the incident's)."""
NAMESPACE = uuid.UUID("4f1c7c0e-8d0a-4a53-9d8e-5b0f2f6f6a10")


class Topic(StrEnum):
    POLICY = "policy"
    ORDER = "order"
    APPOINTMENT = "appointment"


@dataclass(frozen=True)
class Incident:
    """The OpenAI outage: slow answers from ``slow_from``, failures from ``down_from`` to
    ``until`` (every call to OpenAI fails; the router falls back to Anthropic)."""

    slow_from: datetime
    down_from: datetime
    until: datetime

    def phase(self, at: datetime) -> str | None:
        """``"slow"``, ``"down"`` or ``None`` at ``at``."""
        if self.down_from <= at < self.until:
            return "down"
        if self.slow_from <= at < self.down_from:
            return "slow"
        return None


@dataclass(frozen=True)
class PlannedConversation:
    """One conversation of the history: its id, start, customer and what it does."""

    id: str
    index: int
    starts_at: datetime
    customer: int
    """An index into the demo customers, in the order of their ids."""
    topics: tuple[Topic, ...]
    pii: bool
    escalate: bool
    votes: tuple[int, ...]
    """A vote per answer: +1, -1 or 0 (none)."""
    in_experiment: bool
    incident: str | None

    @property
    def short(self) -> bool:
        """Whether the first start's short pass makes it."""
        return self.index % SHORT_EVERY == 0 or self.incident is not None


@dataclass(frozen=True)
class HistoryPlan:
    days: int
    conversations: tuple[PlannedConversation, ...]
    incident: Incident
    experiment_from: datetime


def plan_history(
    days: int, *, end: datetime, timezone: str, customers: int, seed: int = 7
) -> HistoryPlan:
    """The conversations of the ``days`` days before ``end`` (aware), oldest first.

    The same arguments give the same plan, ids included."""
    if days < 1:
        raise ValueError("The history needs at least one day.")
    zone = ZoneInfo(timezone)
    start = end - timedelta(days=days)
    incident = incident_of(end, days, timezone)
    experiment_from = experiment_start(end, days)
    rng = random.Random(f"{seed}:{days}:{end.isoformat()}")
    chattiness = [rng.paretovariate(1.6) for _ in range(customers)]
    hour = start.replace(minute=0, second=0, microsecond=0)
    planned: list[PlannedConversation] = []
    while hour < end:
        local = hour.astimezone(zone)
        rate = CONVERSATIONS_PER_WEEKDAY / sum(HOURLY_WEIGHT)
        expected = rate * HOURLY_WEIGHT[local.hour] * DAY_WEIGHT[local.weekday()]
        if incident.phase(hour) is not None:
            expected *= 1.4  # customers write in when answers are slow
        for _ in range(_poisson(rng, expected)):
            moment = hour + timedelta(seconds=rng.uniform(0, 3600))
            if start <= moment < end:
                planned.append(_conversation(rng, moment, chattiness, incident, experiment_from))
        hour += timedelta(hours=1)
    planned.sort(key=lambda c: c.starts_at)
    numbered = tuple(
        PlannedConversation(
            id=str(uuid.uuid5(NAMESPACE, f"{seed}:{days}:{end.isoformat()}:{i}")),
            index=i,
            starts_at=c.starts_at,
            customer=c.customer,
            topics=c.topics,
            pii=c.pii,
            escalate=c.escalate,
            votes=c.votes,
            in_experiment=c.in_experiment,
            incident=c.incident,
        )
        for i, c in enumerate(planned)
    )
    return HistoryPlan(days, numbered, incident, experiment_from)


def experiment_start(end: datetime, days: int) -> datetime:
    """When the history's A/B experiment starts: a little under half-way back."""
    return end - timedelta(days=max(1.0, days * 0.45))


def incident_of(end: datetime, days: int, timezone: str) -> Incident:
    """A weekday afternoon about a third of the way back (yesterday for a one-day history)."""
    zone = ZoneInfo(timezone)
    day = (end - timedelta(days=max(1, round(days / 3)))).astimezone(zone).date()
    while day.weekday() >= 5 and (end.astimezone(zone).date() - day).days < days - 1:
        day -= timedelta(days=1)
    down_from = datetime.combine(day, time(13, 30), zone)
    return Incident(
        slow_from=down_from - timedelta(minutes=40),
        down_from=down_from,
        until=down_from + timedelta(minutes=75),
    )


def _conversation(
    rng: random.Random,
    moment: datetime,
    chattiness: list[float],
    incident: Incident,
    experiment_from: datetime,
) -> PlannedConversation:
    phase = incident.phase(moment)
    customer = rng.choices(range(len(chattiness)), weights=chattiness)[0]
    turns = rng.choices((1, 2, 3), weights=(0.55, 0.33, 0.12))[0]
    topics = tuple(rng.choices(list(Topic), weights=(0.55, 0.3, 0.15))[0] for _ in range(turns))
    unhappy = 0.45 if phase else 0.18
    votes = tuple(
        0 if rng.random() > 0.3 else (-1 if rng.random() < unhappy else 1) for _ in topics
    )
    return PlannedConversation(
        id="",
        index=0,
        starts_at=moment,
        customer=customer,
        topics=topics,
        pii=rng.random() < 0.08,
        escalate=rng.random() < (0.15 if phase else 0.05),
        votes=votes,
        in_experiment=moment >= experiment_from,
        incident=phase,
    )


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method; the means here are small)."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count
