"""The plain definitions an experiment's analysis needs, cheap to import (no statistics
libraries): the app's experiment code builds an ``ExperimentSpec`` from these."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Metric(StrEnum):
    """What an experiment can be decided on."""

    COST_PER_CONVERSATION = "cost_per_conversation"
    P95_LATENCY = "p95_latency"
    THUMBS_UP_RATE = "thumbs_up_rate"
    QUALITY_SCORE = "quality_score"
    ESCALATION_RATE = "escalation_rate"

    @property
    def label(self) -> str:
        """How a page names it."""
        return _LABELS[self]

    @property
    def higher_is_better(self) -> bool:
        """Whether a rise is good news."""
        return self in (Metric.THUMBS_UP_RATE, Metric.QUALITY_SCORE)


_LABELS = {
    Metric.COST_PER_CONVERSATION: "cost per conversation",
    Metric.P95_LATENCY: "p95 latency",
    Metric.THUMBS_UP_RATE: "thumbs-up rate",
    Metric.QUALITY_SCORE: "quality score",
    Metric.ESCALATION_RATE: "escalation rate",
}


@dataclass(frozen=True)
class ExperimentSpec:
    """What the analysis needs to know of an experiment (the app's definition, as plain data)."""

    name: str
    variants: tuple[str, ...]
    """Variant names, the control first."""
    metric: Metric = Metric.COST_PER_CONVERSATION
    min_sample: int = 100
    """Conversations per variant before a verdict is given."""
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class StatsPolicy:
    """Significance level, power and the smallest relative change worth acting on."""

    alpha: float = 0.05
    power: float = 0.8
    min_effect: float = 0.10


def question_hash(question: str) -> str:
    """The same for two questions with the same words, whatever their case and punctuation
    (stamped on retrieval spans, so repeated questions are counted without their text)."""
    words = " ".join(re.findall(r"\w+", question.lower()))
    return hashlib.sha256(words.encode()).hexdigest()[:16]
