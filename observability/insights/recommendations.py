"""Recommendations computed from the spans of a time range, each with its money for that range
and the spans behind it; one the data does not support is not made.

- **Route to a cheaper model** — per chat model: cost per answered turn (``traces``) and the
  mean quality score of those turns (``turn`` spans); a model that costs less per turn and whose
  quality is not significantly lower (Welch's t-test from the sums) saves the difference on
  every turn of the dearer one. Also from experiments: a candidate significantly cheaper per
  conversation and not significantly worse on thumbs-up, quality or escalations.
- **Cache repeated questions** — retrieval spans' question hash (``observatory.retrieval.query.
  hash``: the same words in any case and punctuation; no text is needed), or their question text
  when content is captured: each trace that repeats a question asked before, answered by a
  model rather than the answer cache, costs that question's mean turn cost; the cache's own hit
  rate (``cache_lookup`` spans) is given.
- **Trim context** — turns (``traces``) whose input per call is over twice their model's mean;
  trimming them to that saves the extra input tokens at the model's input price
  (``price_usage``). What history summarisation already saved
  (``observatory.context.tokens_saved``) is given beside it.
- **Fix a failing primary** — router attempts that fell back (``observatory.fallback.reason``),
  by the model that failed: the time they added (their durations) and what the fallback model
  charged over the primary's price for the same tokens.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from scipy import stats as scipy_stats
from sqlalchemy import ColumnElement, Engine, Row, and_, case, func, select
from sqlalchemy.engine import Connection

from observability import attributes as attr
from observability.insights.anomalies import traces_link
from observability.insights.definitions import Metric, StatsPolicy
from observability.insights.experiments import ExperimentResult
from observability.insights.sql import json_number, json_text, store_dialect, work_mem
from observability.pricing import PriceStatus, TokenUsage, price_usage
from observability.queries import Window, answering
from observability.store.dialect import StoreDialect
from observability.store.schema import spans, traces

QUALITY = "observatory.quality.score"
QUESTION = "gen_ai.retrieval.query.text"
TOKENS_SAVED = "observatory.context.tokens_saved"
CHAT = ("chat", "text_completion")
MIN_TURNS = 30
MIN_LONG_CALLS = 20
MIN_FALLBACKS = 10
LONG_FACTOR = 2.0


@dataclass(frozen=True)
class Recommendation:
    """One thing to do, what it is worth over the range, and the spans that say so."""

    kind: str
    title: str
    detail: str
    savings_usd: float
    spans: int
    """How many spans the figure was computed from."""
    link: str
    """The Traces page for the range."""


def recommend(
    engine: Engine,
    window: Window,
    experiments: Sequence[ExperimentResult] = (),
    policy: StatsPolicy | None = None,
) -> list[Recommendation]:
    """Every supported recommendation for ``window``, most money first."""
    policy = policy or StatsPolicy()
    dialect = store_dialect(engine)
    with answering(), engine.connect() as conn:
        setting = work_mem(dialect)
        if setting is not None:
            conn.execute(setting)
        found = [
            *_cheaper_model(conn, dialect, window, policy),
            *_repeated_questions(conn, dialect, window),
            *_long_context(conn, dialect, window),
            *_failing_primary(conn, window),
        ]
    found += [r for e in experiments if (r := _cheaper_variant(e, window)) is not None]
    return sorted(found, key=lambda r: r.savings_usd, reverse=True)


def _cheaper_model(
    conn: Connection, dialect: StoreDialect, window: Window, policy: StatsPolicy
) -> list[Recommendation]:
    quality = json_number(dialect, spans.c.attributes, QUALITY)
    turns = (
        select(spans.c.trace_id, quality.label("quality"))
        .where(spans.c.name == "turn", *_in(window))
        .subquery()
    )
    query = (
        select(
            traces.c.model,
            func.count().label("n"),
            func.sum(traces.c.cost_usd).label("cost"),
            func.avg(turns.c.quality).label("mean"),
            func.avg(turns.c.quality * turns.c.quality).label("square"),
            func.count(turns.c.quality).label("scored"),
        )
        .join(turns, turns.c.trace_id == traces.c.trace_id)
        .where(traces.c.model.is_not(None), traces.c.cost_usd > 0)
        .group_by(traces.c.model)
    )
    models = [row for row in conn.execute(query) if row.scored >= MIN_TURNS]
    if len(models) < 2:
        return []
    dear = max(models, key=lambda r: r.cost)
    options = []
    for other in models:
        per_turn = other.cost / other.n
        saving = (dear.cost / dear.n - per_turn) * dear.n
        if other is dear or saving <= 0 or _worse(other, dear, policy):
            continue
        options.append((saving, other))
    if not options:
        return []
    saving, best = max(options, key=lambda o: o[0])
    detail = (
        f"{dear.model} answered {dear.n:,} turns at ${dear.cost / dear.n:.4f} each with mean "
        f"quality {dear.mean:.2f}; {best.model} answered {best.n:,} at "
        f"${best.cost / best.n:.4f} with quality {best.mean:.2f}, not significantly lower "
        "(Welch's t-test on the turns' scores). Measured on the questions each model got."
    )
    return [
        Recommendation(
            "cheaper_model",
            f"Route {dear.model}'s turns to {best.model}",
            detail,
            float(saving),
            int(dear.n + best.n),
            traces_link(window.start, window.end),
        )
    ]


def _worse(candidate: Row[Any], incumbent: Row[Any], policy: StatsPolicy) -> bool:
    """Whether the candidate's quality is significantly below the incumbent's."""
    if candidate.mean >= incumbent.mean:
        return False
    c_sd, i_sd = _sd(candidate), _sd(incumbent)
    if c_sd == 0 and i_sd == 0:
        return True
    result = scipy_stats.ttest_ind_from_stats(
        candidate.mean, c_sd, candidate.scored, incumbent.mean, i_sd, incumbent.scored,
        equal_var=False,
    )  # fmt: skip
    return bool(result.pvalue < policy.alpha)


def _sd(row: Row[Any]) -> float:
    n, mean, square = row.scored, row.mean, row.square
    variance = max(square - mean * mean, 0.0) * n / max(n - 1, 1)
    return math.sqrt(variance)


def _repeated_questions(
    conn: Connection, dialect: StoreDialect, window: Window
) -> list[Recommendation]:
    question = func.coalesce(
        json_text(dialect, spans.c.attributes, attr.RETRIEVAL_QUERY_HASH),
        func.lower(func.trim(json_text(dialect, spans.c.attributes, QUESTION))),
    )
    asked = (
        select(question.label("question"), spans.c.trace_id)
        .where(spans.c.name.like("retrieval %"), *_in(window))
        .subquery()
    )
    groups = (
        select(
            asked.c.question,
            func.count(func.distinct(asked.c.trace_id)).label("asked"),
            func.avg(func.coalesce(traces.c.cost_usd, 0.0)).label("cost"),
        )
        .join(traces, traces.c.trace_id == asked.c.trace_id)
        .where(asked.c.question.is_not(None), asked.c.question != "")
        .group_by(asked.c.question)
        .having(func.count(func.distinct(asked.c.trace_id)) > 1)
    )
    repeated = conn.execute(groups).fetchall()
    lookups = conn.execute(
        select(func.count(), func.sum(case((spans.c.cache_hit.is_(True), 1), else_=0))).where(
            spans.c.name == "cache_lookup", *_in(window)
        )
    ).one()
    repeats = sum(int(r.asked) - 1 for r in repeated)
    saving = sum((int(r.asked) - 1) * float(r.cost or 0.0) for r in repeated)
    if not repeated or saving <= 0:
        return []
    total, hits = int(lookups[0] or 0), int(lookups[1] or 0)
    rate = f"{hits / total:.0%}".replace("%", " %") if total else "no"
    top = max(repeated, key=lambda r: int(r.asked))
    detail = (
        f"{len(repeated):,} questions were asked more than once ({repeats:,} repeats; the most "
        f"asked {int(top.asked):,} times); the answer cache served {rate} of "
        f"{total:,} lookups. Answering each repeat from the cache saves its turn's cost."
    )
    return [
        Recommendation(
            "cache",
            "Cache answers to repeated questions",
            detail,
            float(saving),
            repeats + len(repeated),
            traces_link(window.start, window.end),
        )
    ]


def _long_context(conn: Connection, dialect: StoreDialect, window: Window) -> list[Recommendation]:
    t = traces.c
    priced = and_(
        t.start_time >= window.start,
        t.start_time < window.end,
        t.call_count > 0,
        t.model.is_not(None),
        t.input_tokens > 0,
    )
    means = (
        select(
            t.provider,
            t.model,
            (LONG_FACTOR * func.sum(t.input_tokens) / func.sum(t.call_count)).label("target"),
        )
        .where(priced)
        .group_by(t.provider, t.model)
        .subquery()
    )
    over = t.input_tokens - means.c.target * t.call_count
    long = conn.execute(
        select(t.provider, t.model, func.count(), func.sum(over))
        .join(
            means, and_(t.model == means.c.model, t.provider.is_not_distinct_from(means.c.provider))
        )
        .where(priced, over > 0)
        .group_by(t.provider, t.model)
    ).fetchall()
    saving, long_turns, trimmed = Decimal(0), 0, 0
    per_million = TokenUsage(input=1_000_000)
    for provider, name, n, extra in long:
        price = price_usage(str(provider or ""), str(name), per_million, window.end.date())
        if price.status is not PriceStatus.PRICED or price.cost_usd is None:
            continue
        long_turns += int(n)
        trimmed += int(extra or 0)
        saving += price.cost_usd * Decimal(int(extra or 0)) / Decimal(1_000_000)
    if long_turns < MIN_LONG_CALLS or saving <= 0:
        return []
    summarised = json_number(dialect, spans.c.attributes, TOKENS_SAVED)
    saved = conn.execute(
        select(func.sum(summarised)).where(spans.c.name == "context_budget", *_in(window))
    ).scalar()
    detail = (
        f"{long_turns:,} turns sent their model over twice its mean input per call; trimming "
        f"them to it drops {trimmed:,} input tokens, priced at each model's input rate. History "
        f"summarisation already saved {int(saved or 0):,} tokens in this range."
    )
    return [
        Recommendation(
            "trim_context",
            "Trim long prompts",
            detail,
            float(saving),
            long_turns,
            traces_link(window.start, window.end),
        )
    ]


def _failing_primary(conn: Connection, window: Window) -> list[Recommendation]:
    fell_back = and_(
        spans.c.fallback_reason.is_not(None), spans.c.attempt.is_not(None), *_in(window)
    )
    by_model = conn.execute(
        select(
            spans.c.provider,
            spans.c.request_model,
            func.count().label("n"),
            func.sum(spans.c.duration_ms).label("waited"),
        )
        .where(fell_back)
        .group_by(spans.c.provider, spans.c.request_model)
        .order_by(func.count().desc())
    ).fetchall()
    if not by_model or int(by_model[0].n) < MIN_FALLBACKS:
        return []
    primary = by_model[0]
    affected = select(spans.c.trace_id).where(
        fell_back, spans.c.request_model == primary.request_model
    )
    answered = conn.execute(
        select(
            func.sum(spans.c.input_tokens),
            func.sum(spans.c.output_tokens),
            func.sum(spans.c.cost_usd),
        ).where(
            spans.c.trace_id.in_(affected),
            spans.c.operation.in_(CHAT),
            spans.c.status != "error",
            spans.c.cost_usd.is_not(None),
            *_in(window),
        )
    ).one()
    tokens_in, tokens_out, paid = (
        int(answered[0] or 0),
        int(answered[1] or 0),
        float(answered[2] or 0.0),
    )
    usage = TokenUsage(input=tokens_in, output=tokens_out)
    own = price_usage(
        str(primary.provider or ""), str(primary.request_model), usage, window.end.date()
    )
    extra = paid - float(own.cost_usd) if own.cost_usd is not None else 0.0
    waited_s = float(primary.waited or 0.0) / 1000
    money = (
        f"the fallbacks charged ${paid:,.4f} where {primary.request_model} would have charged "
        f"${float(own.cost_usd):,.4f}"
        if own.cost_usd is not None
        else f"{primary.request_model} has no price to compare with"
    )
    detail = (
        f"{int(primary.n):,} calls to {primary.request_model} failed and fell back, adding "
        f"{waited_s:,.0f} s of waiting in all ({waited_s / int(primary.n):.1f} s each); {money}."
    )
    return [
        Recommendation(
            "fix_primary",
            f"Fix or replace the failing primary {primary.request_model}",
            detail,
            max(extra, 0.0),
            int(primary.n),
            traces_link(window.start, window.end),
        )
    ]


def _cheaper_variant(result: ExperimentResult, window: Window) -> Recommendation | None:
    if len(result.variants) < 2:
        return None
    control = result.variants[0]
    best: Recommendation | None = None
    for variant in result.variants[1:]:
        tests = {t.metric: t for t in result.tests if t.variant == variant.name}
        cost = tests[Metric.COST_PER_CONVERSATION]
        worse = any(
            t.significant and (t.comparison.relative_change < 0) == t.metric.higher_is_better
            for m, t in tests.items()
            if m in (Metric.THUMBS_UP_RATE, Metric.QUALITY_SCORE, Metric.ESCALATION_RATE)
        )
        if not cost.significant or cost.comparison.relative_change >= 0 or worse:
            continue
        per = control.cost_per_conversation.value - variant.cost_per_conversation.value
        saving = per * control.conversations
        ours, theirs = variant.cost_per_conversation.value, control.cost_per_conversation.value
        detail = (
            f"In “{result.spec.name}”, {variant.name} costs ${ours:.4f} per conversation "
            f"against {control.name}'s ${theirs:.4f} (significant), and is not significantly "
            f"worse on thumbs-up, quality or escalations; {control.name}'s "
            f"{control.conversations:,} conversations would have cost that much less."
        )
        candidate = Recommendation(
            "cheaper_variant",
            f"Route everyone to {variant.name} ({result.spec.name})",
            detail,
            float(saving),
            control.requests + variant.requests,
            traces_link(window.start, window.end),
        )
        if best is None or candidate.savings_usd > best.savings_usd:
            best = candidate
    return best


def _in(window: Window) -> list[ColumnElement[bool]]:
    return [spans.c.start_time >= window.start, spans.c.start_time < window.end]
