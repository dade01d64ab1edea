"""A/B experiment results from the stored spans: per variant, every metric with its interval,
a test per metric against the control, the sample still needed and a plain verdict.

The unit is the conversation (customers are assigned, conversations are what they have).
Customers and conversations are distinct ids on the root spans of the experiment's traces;
requests are those traces' LLM calls and cost per conversation their cost (``traces``);
quality is the mean ``observatory.quality.score`` of a conversation's ``turn`` spans; a
conversation escalated when it has a ``summarise_escalation`` or ``execute_tool create_ticket``
span; thumbs-up is the share of up-votes among the last vote on each answer (``annotation
feedback`` spans, matched to the variant by conversation). Latency is per LLM call, from the
rollups' histograms (a call's value is the middle of its bin, ±9 %). See ``stats`` for the tests.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Engine, func, select

from observability.insights import stats
from observability.insights.definitions import ExperimentSpec, Metric, StatsPolicy
from observability.insights.sql import json_number, store_dialect, work_mem
from observability.insights.stats import NAN, Comparison, Estimate, Moments
from observability.queries import answering
from observability.store.schema import (
    DURATION_BINS,
    LATENCY_BOUNDS_MS,
    rollup_hour,
    spans,
    traces,
)

QUALITY_SCORE = "observatory.quality.score"
ANNOTATION_VALUE = "observatory.annotation.value"
ESCALATION_SPANS = ("summarise_escalation", "execute_tool create_ticket")


@dataclass(frozen=True)
class VariantResult:
    """One variant's figures."""

    name: str
    customers: int
    conversations: int
    requests: int
    cost_per_conversation: Estimate
    p50_ms: Estimate
    p95_ms: Estimate
    thumbs_up: Estimate
    quality: Estimate
    escalation: Estimate


@dataclass(frozen=True)
class MetricTest:
    """A candidate against the control on one metric."""

    metric: Metric
    variant: str
    comparison: Comparison
    significant: bool


@dataclass(frozen=True)
class ExperimentResult:
    """Everything the panel shows for one experiment."""

    spec: ExperimentSpec
    variants: tuple[VariantResult, ...]
    tests: tuple[MetricTest, ...]
    needed_per_variant: int
    """Conversations per variant to detect ``min_effect`` on the deciding metric."""
    still_needed: int
    """Conversations still missing in the smallest variant (0 when there are enough)."""
    verdict: str


@dataclass
class _Samples:
    customers: int = 0
    conversations: int = 0
    requests: int = 0
    cost: Moments = field(default_factory=lambda: Moments(0, NAN, NAN))
    quality: Moments = field(default_factory=lambda: Moments(0, NAN, NAN))
    escalated: int = 0
    votes_up: int = 0
    votes: int = 0
    latency: np.ndarray = field(default_factory=lambda: np.empty(0))


def analyse_experiment(
    engine: Engine, spec: ExperimentSpec, window_end: datetime, policy: StatsPolicy | None = None
) -> ExperimentResult:
    """The experiment's results from its spans between its start and end (or ``window_end``)."""
    policy = policy or StatsPolicy()
    end = min(spec.end or window_end, window_end)
    samples = _read_samples(engine, spec, end)
    variants = tuple(_variant_result(name, samples[name], policy) for name in spec.variants)
    tests = tuple(
        _test(metric, samples[spec.variants[0]], samples[name], name, policy)
        for name in spec.variants[1:]
        for metric in Metric
    )
    needed = _needed(spec.metric, samples[spec.variants[0]], policy)
    have = min((v.conversations for v in variants), default=0)
    target = max(needed, spec.min_sample)
    still = max(target - have, 0)
    verdict = write_verdict(spec, variants, tests, still, policy)
    return ExperimentResult(spec, variants, tests, needed, still, verdict)


def _read_samples(engine: Engine, spec: ExperimentSpec, end: datetime) -> dict[str, _Samples]:
    """Each variant's sums, summed by the database (a month of a busy experiment is hundreds
    of thousands of traces): per conversation first, then per variant."""
    dialect = store_dialect(engine)
    c = spans.c
    period = [c.start_time < end, *([c.start_time >= spec.start] if spec.start else [])]
    roots = (
        select(c.variant, c.conversation_id, c.user_id, c.trace_id)
        .where(c.parent_span_id.is_(None), c.experiment == spec.name, *period)
        .where(c.conversation_id.is_not(None))
        .subquery()
    )
    per_conversation = (
        select(
            roots.c.variant,
            func.max(roots.c.user_id).label("user_id"),
            func.coalesce(func.sum(traces.c.call_count), 0).label("requests"),
            func.coalesce(func.sum(traces.c.cost_usd), 0.0).label("cost"),
        )
        .join(traces, traces.c.trace_id == roots.c.trace_id)
        .group_by(roots.c.variant, roots.c.conversation_id)
        .subquery()
    )
    conversations = select(
        per_conversation.c.variant,
        func.count(),
        func.count(per_conversation.c.user_id.distinct()),
        func.sum(per_conversation.c.requests),
        func.sum(per_conversation.c.cost),
        func.sum(per_conversation.c.cost * per_conversation.c.cost),
    ).group_by(per_conversation.c.variant)
    score = json_number(dialect, c.attributes, QUALITY_SCORE)
    turn_scores = (
        select(c.variant, func.avg(score).label("score"))
        .where(c.name == "turn", c.experiment == spec.name, *period)
        .group_by(c.variant, c.conversation_id)
        .subquery()
    )
    scores = select(
        turn_scores.c.variant,
        func.count(turn_scores.c.score),
        func.sum(turn_scores.c.score),
        func.sum(turn_scores.c.score * turn_scores.c.score),
    ).group_by(turn_scores.c.variant)
    escalations = (
        select(roots.c.variant, func.count(roots.c.conversation_id.distinct()))
        .join(roots, roots.c.trace_id == c.trace_id)
        .where(c.name.in_(ESCALATION_SPANS), *period)
        .group_by(roots.c.variant)
    )
    value = json_number(dialect, c.attributes, ANNOTATION_VALUE)
    votes = (
        select(roots.c.variant, c.trace_id, c.start_time, value)
        .join(roots, roots.c.trace_id == c.trace_id)
        .where(c.name == "annotation feedback", *period)
    )
    samples: dict[str, _Samples] = defaultdict(_Samples)
    with answering(), engine.connect() as conn:
        setting = work_mem(dialect)
        if setting is not None:
            conn.execute(setting)
        for variant, n, customers, requests, total, squares in conn.execute(conversations):
            sample = samples[str(variant)]
            sample.conversations, sample.customers = int(n), int(customers)
            sample.requests = int(requests or 0)
            sample.cost = Moments.from_sums(int(n), float(total or 0), float(squares or 0))
        for variant, n, total, squares in conn.execute(scores):
            samples[str(variant)].quality = Moments.from_sums(
                int(n), float(total or 0), float(squares or 0)
            )
        for variant, n in conn.execute(escalations):
            samples[str(variant)].escalated = int(n)
        _count_votes(conn.execute(votes).fetchall(), samples)
        for name, values in _latency_histograms(conn, spec, end).items():
            samples[name].latency = values
    return samples


def _count_votes(vote_rows: Sequence[Any], samples: dict[str, _Samples]) -> None:
    """The last vote on each answer (trace) counts: a changed vote replaces the first."""
    last: dict[str, tuple[str, float]] = {}
    for variant, trace_id, _, value in sorted(vote_rows, key=lambda r: r[2]):
        if value is not None:
            last[str(trace_id)] = (str(variant), float(value))
    for variant, value in last.values():
        samples[variant].votes += 1
        samples[variant].votes_up += int(value > 0)


def _latency_histograms(conn: Any, spec: ExperimentSpec, end: datetime) -> dict[str, np.ndarray]:
    """Each variant's call latencies, one value per call at the middle of its histogram bin."""
    table = rollup_hour
    conditions = [table.c.experiment == spec.name, table.c.bucket < end]
    if spec.start is not None:
        conditions.append(table.c.bucket >= spec.start.replace(minute=0, second=0, microsecond=0))
    query = (
        select(table.c.variant, *(func.sum(table.c[b]).label(b) for b in DURATION_BINS))
        .where(*conditions)
        .group_by(table.c.variant)
    )
    middles = np.array(_bin_middles())
    found: dict[str, np.ndarray] = {}
    for row in conn.execute(query):
        counts = np.array([int(v or 0) for v in row[1:]])
        found[str(row[0])] = np.repeat(middles, counts)
    return found


def _bin_middles() -> list[float]:
    bounds = [0.0, *LATENCY_BOUNDS_MS]
    middles = [float(np.sqrt(max(bounds[i], 1.0) * bounds[i + 1])) for i in range(len(bounds) - 1)]
    return [*middles, LATENCY_BOUNDS_MS[-1] * 1.09]


def _variant_result(name: str, sample: _Samples, policy: StatsPolicy) -> VariantResult:
    alpha = policy.alpha
    conversations = sample.conversations
    return VariantResult(
        name=name,
        customers=sample.customers,
        conversations=conversations,
        requests=sample.requests,
        cost_per_conversation=stats.mean_estimate(sample.cost, alpha),
        p50_ms=stats.quantile_estimate(sample.latency, 0.5, alpha),
        p95_ms=stats.quantile_estimate(sample.latency, 0.95, alpha),
        thumbs_up=stats.rate_estimate(sample.votes_up, sample.votes, alpha),
        quality=stats.mean_estimate(sample.quality, alpha),
        escalation=stats.rate_estimate(sample.escalated, conversations, alpha),
    )


def _test(
    metric: Metric, control: _Samples, candidate: _Samples, name: str, policy: StatsPolicy
) -> MetricTest:
    comparison = _compare(metric, control, candidate, policy.alpha)
    significant = bool(comparison.p_value < policy.alpha)
    return MetricTest(metric, name, comparison, significant)


def _compare(metric: Metric, control: _Samples, candidate: _Samples, alpha: float) -> Comparison:
    match metric:
        case Metric.COST_PER_CONVERSATION:
            return stats.compare_means(control.cost, candidate.cost, alpha)
        case Metric.QUALITY_SCORE:
            return stats.compare_means(control.quality, candidate.quality, alpha)
        case Metric.P95_LATENCY:
            return stats.compare_distributions(control.latency, candidate.latency, 0.95)
        case Metric.THUMBS_UP_RATE:
            return stats.compare_rates(
                (control.votes_up, control.votes), (candidate.votes_up, candidate.votes), alpha
            )
        case Metric.ESCALATION_RATE:
            return stats.compare_rates(
                (control.escalated, control.conversations),
                (candidate.escalated, candidate.conversations),
                alpha,
            )


def _needed(metric: Metric, control: _Samples, policy: StatsPolicy) -> int:
    args = (policy.min_effect, policy.alpha, policy.power)
    match metric:
        case Metric.COST_PER_CONVERSATION | Metric.QUALITY_SCORE | Metric.P95_LATENCY:
            moments = {
                Metric.COST_PER_CONVERSATION: control.cost,
                Metric.QUALITY_SCORE: control.quality,
                Metric.P95_LATENCY: Moments.of(control.latency),
            }[metric]
            if moments.n < 2:
                return 0
            return stats.sample_needed_mean(moments.mean, moments.sd, *args)
        case Metric.THUMBS_UP_RATE:
            rate = control.votes_up / control.votes if control.votes else 0.0
            return stats.sample_needed_rate(rate, *args)
        case Metric.ESCALATION_RATE:
            conversations = control.conversations
            rate = control.escalated / conversations if conversations else 0.0
            return stats.sample_needed_rate(rate, *args)


def write_verdict(
    spec: ExperimentSpec,
    variants: Sequence[VariantResult],
    tests: Sequence[MetricTest],
    still_needed: int,
    policy: StatsPolicy,
) -> str:
    """One or two plain sentences: what the deciding metric says, and what else differs."""
    if len(variants) < 2 or min(v.conversations for v in variants) == 0:
        return "No conversations in every variant yet, so there is nothing to compare."
    control = variants[0]
    confidence = f"{1 - policy.alpha:.0%}"
    sentences = []
    for variant in variants[1:]:
        deciding = next(t for t in tests if t.variant == variant.name and t.metric is spec.metric)
        sentences.append(_deciding_sentence(spec, control, variant, deciding, confidence))
        others = [
            _other_clause(t, control, variant)
            for t in tests
            if t.variant == variant.name and t.metric is not spec.metric and t.significant
        ]
        if others:
            sentences.append("Also significant: " + "; ".join(others) + ".")
    n = min(v.conversations for v in variants)
    if still_needed:
        sentences.append(
            f"Keep it running: about {still_needed:,} more conversations per variant are needed "
            f"(n = {n:,} now) to see a {policy.min_effect:.0%} difference at "
            f"{policy.power:.0%} power."
        )
    return " ".join(sentences).replace("%", " %")


def _deciding_sentence(
    spec: ExperimentSpec,
    control: VariantResult,
    variant: VariantResult,
    test: MetricTest,
    confidence: str,
) -> str:
    comparison = test.comparison
    n = min(control.conversations, variant.conversations)
    if np.isnan(comparison.p_value):
        return f"{variant.name} and {control.name} cannot be compared on {spec.metric.label} yet."
    change = comparison.relative_change
    direction = _direction(spec.metric, change)
    interval = ""
    if not np.isnan(comparison.change_low):
        low, high = sorted((abs(comparison.change_low), abs(comparison.change_high)))
        same_side = np.sign(comparison.change_low) == np.sign(comparison.change_high)
        interval = (
            f" ({confidence} CI {low:.0%}–{high:.0%})"
            if same_side
            else f" ({confidence} CI {comparison.change_low:+.0%} to {comparison.change_high:+.0%})"
        )
    p_text = "p < 0.001" if comparison.p_value < 0.001 else f"p = {comparison.p_value:.3f}"
    finding = f"{variant.name} {direction} than {control.name}{interval}"
    if test.significant:
        return (
            f"{finding}: significant at n = {n:,} conversations per variant "
            f"({p_text}, {comparison.test})."
        )
    return f"{finding}: not significant yet ({p_text}, {comparison.test}, n = {n:,})."


def _direction(metric: Metric, change: float) -> str:
    size = f"{abs(change):.0%}"
    match metric:
        case Metric.COST_PER_CONVERSATION:
            return f"costs {size} {'less' if change < 0 else 'more'} per conversation"
        case Metric.P95_LATENCY:
            return f"has a {size} {'lower' if change < 0 else 'higher'} p95 latency"
        case Metric.THUMBS_UP_RATE:
            return f"gets a {size} {'higher' if change > 0 else 'lower'} thumbs-up rate"
        case Metric.QUALITY_SCORE:
            return f"scores {size} {'higher' if change > 0 else 'lower'} on quality"
        case Metric.ESCALATION_RATE:
            return f"escalates {size} {'less' if change < 0 else 'more'} often"


def _other_clause(test: MetricTest, control: VariantResult, variant: VariantResult) -> str:
    pick = {
        Metric.COST_PER_CONVERSATION: lambda v: f"${v.cost_per_conversation.value:.4f}",
        Metric.P95_LATENCY: lambda v: f"{v.p95_ms.value / 1000:.2f} s",
        Metric.THUMBS_UP_RATE: lambda v: f"{v.thumbs_up.value:.0%}",
        Metric.QUALITY_SCORE: lambda v: f"{v.quality.value:.2f}",
        Metric.ESCALATION_RATE: lambda v: f"{v.escalation.value:.0%}",
    }[test.metric]
    return f"{test.metric.label} {pick(variant)} vs {pick(control)}"
