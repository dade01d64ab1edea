"""What the Analytics page shows, computed from ``AnalyticsQueries`` answers: KPI tiles with
their change against the previous period of the same length, and one tidy frame per chart.

Money never includes unpriced calls: a cost is NaN (not $0) where every call was unpriced, and
the unpriced calls and their tokens are counted apart. The cache's savings are an estimate:
each answer served from the cache times the average cost of a paid call to the same model in
the same period.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from observability.analytics import CURRENT, PREVIOUS, Outcomes, latency

TOKEN_KINDS = {
    "uncached_input": "input (not cached)",
    "cache_read_tokens": "cached input",
    "cache_write_tokens": "cache writes",
    "output_tokens": "output",
}


class Unit(StrEnum):
    """How a tile's value reads."""

    USD = "usd"
    COUNT = "count"
    MS = "ms"
    SHARE = "share"


@dataclass(frozen=True)
class Tile:
    """One KPI: its value in the range and in the period of the same length before it."""

    label: str
    value: float | None
    before: float | None
    unit: Unit
    higher_is_better: bool
    help: str

    @property
    def change(self) -> float | None:
        """Relative change against the period before (shares: the change in points, as a
        fraction); None when either side has no value or the period before was zero."""
        if self.value is None or self.before is None:
            return None
        if self.unit is Unit.SHARE:
            return self.value - self.before
        return None if self.before == 0 else (self.value - self.before) / self.before


@dataclass(frozen=True)
class Unpriced:
    """Calls without a price in the range, left out of every money figure."""

    calls: int
    tokens: int


def _number(value: float | None) -> float | None:
    return None if value is None or np.isnan(value) else float(value)


def _share(part: float, whole: float) -> float | None:
    return float(part) / float(whole) if whole else None


def savings(calls: pd.DataFrame) -> pd.Series:
    """The estimated money the answer cache saved, per row of a frame with rollup sums."""
    paid = calls["requests"] - calls["cache_hits"] - calls["unpriced"] - calls["errors"]
    average = calls["cost_usd"].astype(float) / paid.where(paid > 0)
    return (calls["cache_hits"] * average).fillna(0.0)


def _period_savings(periods: pd.DataFrame) -> pd.Series:
    return savings(periods).groupby(periods["period"]).sum()


def unpriced(periods: pd.DataFrame) -> Unpriced:
    """The range's unpriced calls and tokens."""
    now = periods[periods["period"] == CURRENT]
    return Unpriced(int(now["unpriced"].sum()), int(now["unpriced_tokens"].sum()))


def tiles(periods: pd.DataFrame, outcomes: Outcomes) -> list[Tile]:
    """The six KPI tiles, from ``AnalyticsQueries.periods`` and ``outcomes``."""
    now, before = (periods[periods["period"] == name] for name in (CURRENT, PREVIOUS))
    saved = _period_savings(periods)
    turns = outcomes.turns
    votes_now, votes_before = (turns[turns["period"] == name] for name in (CURRENT, PREVIOUS))

    def cache(frame: pd.DataFrame, period: str) -> float | None:
        return float(saved.get(period, 0.0)) if len(frame) else None

    return [
        Tile("Spend", _spend(now), _spend(before), Unit.USD, False,
             "Priced calls only: unpriced calls are counted apart below."),
        Tile("Requests", _requests(now), _requests(before), Unit.COUNT, True,
             "LLM calls, answers from the cache included."),
        Tile("p95 latency", _p95(now), _p95(before), Unit.MS, False,
             "95 % of LLM calls took at most this long."),
        Tile("Error rate", _error_rate(now), _error_rate(before), Unit.SHARE, False,
             "Share of LLM calls that failed (a fallback may still have answered the turn)."),
        Tile("Thumbs-up rate", _up_rate(votes_now), _up_rate(votes_before), Unit.SHARE, True,
             "Share of customers' votes on answers that were a thumbs up."),
        Tile("Cache savings", cache(now, CURRENT), cache(before, PREVIOUS), Unit.USD, True,
             "Answers served from the cache × the average cost of a paid call to the same "
             "model (an estimate)."),
    ]  # fmt: skip


def _priced(calls: pd.DataFrame | pd.Series) -> Any:
    """Calls that had a price: neither unpriced nor failed (a failed call has no usage)."""
    return calls["requests"] - calls["unpriced"] - calls["errors"]


def _spend(calls: pd.DataFrame) -> float | None:
    return float(calls["cost_usd"].sum()) if _priced(calls).sum() > 0 else None


def _requests(calls: pd.DataFrame) -> float | None:
    return float(calls["requests"].sum()) if len(calls) else None


def _p95(calls: pd.DataFrame) -> float | None:
    return _number(latency(calls)["p95_ms"])


def _error_rate(calls: pd.DataFrame) -> float | None:
    return _share(calls["errors"].sum(), calls["requests"].sum())


def _up_rate(turns: pd.DataFrame) -> float | None:
    return _share(turns["up"].sum(), turns["up"].sum() + turns["down"].sum())


def cost_frame(over_time: pd.DataFrame, group: str) -> pd.DataFrame:
    """bucket, [group], cost_usd: priced money only; a group with no priced call in a
    bucket (all unpriced or failed) is left out (never $0)."""
    sums = over_time.groupby(["bucket", group], as_index=False).sum(numeric_only=True)
    priced = sums[_priced(sums) > 0]
    return priced[["bucket", group, "cost_usd"]].astype({"cost_usd": float})


def token_frame(over_time: pd.DataFrame) -> pd.DataFrame:
    """bucket, kind, tokens: input split into not cached, cached and cache writes, and output."""
    sums = over_time.groupby("bucket", as_index=False)[
        ["input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens"]
    ].sum()
    cached = sums["cache_read_tokens"] + sums["cache_write_tokens"]
    sums["uncached_input"] = (sums["input_tokens"] - cached).clip(lower=0)
    long = sums.melt("bucket", list(TOKEN_KINDS), var_name="kind", value_name="tokens")
    return long.assign(kind=long["kind"].map(TOKEN_KINDS))


def request_frame(over_time: pd.DataFrame, group: str) -> pd.DataFrame:
    """bucket, [group], requests."""
    return over_time.groupby(["bucket", group], as_index=False)["requests"].sum()


def reliability_frame(over_time: pd.DataFrame) -> pd.DataFrame:
    """bucket, rate (error, retry, fallback), value: errors per call, retries and fallbacks
    per attempt."""
    sums = over_time.groupby("bucket", as_index=False)[
        ["requests", "errors", "attempts", "retries", "fallbacks"]
    ].sum()
    rates = pd.DataFrame({
        "bucket": sums["bucket"],
        "error rate": sums["errors"] / sums["requests"].where(sums["requests"] > 0),
        "retry rate": sums["retries"] / sums["attempts"].where(sums["attempts"] > 0),
        "fallback rate": sums["fallbacks"] / sums["attempts"].where(sums["attempts"] > 0),
    })  # fmt: skip
    return rates.melt("bucket", var_name="rate", value_name="value").dropna()


def cache_frame(over_time: pd.DataFrame) -> pd.DataFrame:
    """bucket, hit_rate (answers from the cache per call), saved_usd (estimated). A bucket's
    savings use the average paid cost of each model over the whole range."""
    per_model = over_time.groupby("model")[
        ["requests", "cache_hits", "unpriced", "errors", "cost_usd"]
    ].sum()
    paid = per_model["requests"] - per_model["cache_hits"] - per_model["unpriced"]
    paid -= per_model["errors"]
    average = (per_model["cost_usd"].astype(float) / paid.where(paid > 0)).fillna(0.0)
    frame = over_time.assign(saved_usd=over_time["cache_hits"] * over_time["model"].map(average))
    sums = frame.groupby("bucket", as_index=False)[["requests", "cache_hits", "saved_usd"]].sum()
    sums["hit_rate"] = sums["cache_hits"] / sums["requests"].where(sums["requests"] > 0)
    return sums[["bucket", "hit_rate", "saved_usd"]]


def latency_frame(periods: pd.DataFrame) -> pd.DataFrame:
    """model, measure (p50, p95, p99, first chunk p50, first chunk p95), ms: the range's."""
    now = periods[periods["period"] == CURRENT]
    rows = [{"model": model, **latency(calls)} for model, calls in now.groupby("model") if model]
    names = {"p50_ms": "p50", "p95_ms": "p95", "p99_ms": "p99",
             "ttfc_p50_ms": "first chunk p50", "ttfc_p95_ms": "first chunk p95"}  # fmt: skip
    wide = pd.DataFrame(rows, columns=["model", *names])
    long = wide.melt("model", list(names), var_name="measure", value_name="ms").dropna()
    return long.assign(measure=long["measure"].map(names))


def quality_frame(outcomes: Outcomes) -> pd.DataFrame:
    """bucket, measure (thumbs-up rate, quality score, escalation rate, resolution rate),
    value: over the range's turns; resolved means answered by the assistant with no hand-off."""
    turns = outcomes.turns[outcomes.turns["period"] == CURRENT]
    sums = turns.groupby("bucket", as_index=False)[
        ["turns", "scored", "quality_sum", "resolved", "escalated", "up", "down"]
    ].sum()
    votes = sums["up"] + sums["down"]
    wide = pd.DataFrame({
        "bucket": pd.to_datetime(sums["bucket"], utc=True),
        "thumbs-up rate": sums["up"] / votes.where(votes > 0),
        "quality score": sums["quality_sum"] / sums["scored"].where(sums["scored"] > 0),
        "escalation rate": sums["escalated"] / sums["turns"],
        "resolution rate": sums["resolved"] / sums["turns"],
    })  # fmt: skip
    return wide.melt("bucket", var_name="measure", value_name="value").dropna()


def redaction_frame(outcomes: Outcomes) -> pd.DataFrame:
    """kind, texts: how many texts had each kind of PII redacted in the range."""
    found = outcomes.redactions[outcomes.redactions["period"] == CURRENT]
    counts = found.groupby("kind", as_index=False)["texts"].sum()
    return counts.sort_values(["texts", "kind"], ascending=[False, True], ignore_index=True)


def model_table(periods: pd.DataFrame, outcomes: Outcomes) -> pd.DataFrame:
    """One row per model in the range: provider, requests, cost_usd, cost per request and per
    1k tokens (priced calls only), p50/p95 latency, first chunk p50, error and fallback
    rates, thumbs-up rate and mean quality of the turns it answered."""
    now = periods[(periods["period"] == CURRENT) & (periods["model"] != "")]
    turns = outcomes.turns[outcomes.turns["period"] == CURRENT]
    rows = []
    for (provider, model), calls in now.groupby(["provider", "model"]):
        sums = calls.sum(numeric_only=True)
        priced = _priced(sums)
        tokens = sums["input_tokens"] + sums["output_tokens"] - sums["unpriced_tokens"]
        answered = turns.loc[turns["model"] == model, ["up", "down", "quality_sum", "scored"]].sum()
        times = latency(calls)
        rows.append({
            "model": model,
            "provider": provider,
            "requests": int(sums["requests"]),
            "cost_usd": float(sums["cost_usd"]) if priced > 0 else None,
            "cost_per_request": float(sums["cost_usd"]) / priced if priced > 0 else None,
            "cost_per_1k_tokens": 1000 * float(sums["cost_usd"]) / tokens if tokens > 0 else None,
            "p50_ms": _number(times["p50_ms"]),
            "p95_ms": _number(times["p95_ms"]),
            "ttfc_p50_ms": _number(times["ttfc_p50_ms"]),
            "error_rate": _share(sums["errors"], sums["requests"]),
            "fallback_rate": _share(sums["fallbacks"], sums["attempts"]),
            "thumbs_up_rate": _up_rate(answered),
            "quality": _share(answered["quality_sum"], answered["scored"]),
        })  # fmt: skip
    frame = pd.DataFrame(rows)
    return frame.sort_values("requests", ascending=False, ignore_index=True) if rows else frame
