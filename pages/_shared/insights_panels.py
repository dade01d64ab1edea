"""The Analytics page's insight panels: experiments, anomalies and budgets, recommendations.

Each ``render_*`` takes the trace store's engine, the time window and the insight settings,
computes its figures from the stored spans (``observability.insights``) and draws them; a store
that does not answer gives one sentence, never a traceback.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from core.experiments import ExperimentInfo, analysis_spec
from core.settings import InsightSettings
from observability.insights import StatsPolicy
from observability.insights.alerts import Alert, AlertWatcher, collect_alerts
from observability.insights.anomalies import (
    AnomalyPolicy,
    Signal,
    SignalStatus,
    State,
    detect_anomalies,
)
from observability.insights.budgets import BudgetStatus, check_budgets, load_budgets
from observability.insights.experiments import ExperimentResult, analyse_experiment
from observability.insights.recommendations import recommend
from observability.insights.stats import Estimate
from observability.queries import TraceStoreUnavailable, Window

STATE_ICONS = {State.OK: "🟢", State.WARNING: "🟠", State.ALERT: "🔴", State.NO_DATA: "⚪"}
ALERT_LOOKBACK = timedelta(hours=24)


def stats_policy(settings: InsightSettings) -> StatsPolicy:
    """The significance level, power and smallest effect the settings ask for."""
    return StatsPolicy(alpha=settings.alpha, power=settings.power, min_effect=settings.min_effect)


def anomaly_policy(settings: InsightSettings) -> AnomalyPolicy:
    """The detector's sensitivity from the settings."""
    return AnomalyPolicy(
        min_requests=settings.anomaly_min_requests,
        baseline_buckets=settings.anomaly_baseline_buckets,
        warning_z=settings.anomaly_warning_z,
        alert_z=settings.anomaly_alert_z,
    )


def evaluate_alerts(
    trace_store: Engine, settings: InsightSettings, window: Window | None = None
) -> list[Alert]:
    """The incidents and budgets in the warning or alert state (default: the last 24 hours,
    budgets of the window's last day)."""
    window = window or Window.last(ALERT_LOOKBACK)
    statuses = detect_anomalies(trace_store, window, anomaly_policy(settings))
    return collect_alerts(statuses, budget_statuses(trace_store, settings, window))


def budget_statuses(
    trace_store: Engine, settings: InsightSettings, window: Window
) -> list[BudgetStatus]:
    """Every budget against the spend of the window's last UTC day."""
    budgets = load_budgets(
        trace_store, settings.daily_budget_usd, settings.customer_daily_budget_usd
    )
    day = (window.end - timedelta(microseconds=1)).astimezone(UTC).date()
    return check_budgets(trace_store, budgets, day)


def create_alert_watcher(trace_store: Engine, settings: InsightSettings) -> AlertWatcher:
    """A watcher evaluating alerts every minute: delivering them to the configured webhook
    (started here) when a webhook and its secret are set, and telling the listeners it is given
    (started by the first) of new anomalies. Build it once per process."""
    secret = settings.webhook_secret
    url = settings.webhook_url if secret is not None else None
    watcher = AlertWatcher(
        trace_store,
        lambda: evaluate_alerts(trace_store, settings),
        url or None,
        secret.get_secret_value() if secret is not None else None,
    )
    if url:
        watcher.start()
    return watcher


def render_anomalies(trace_store: Engine, window: Window, settings: InsightSettings) -> None:
    """Cost, p95 latency, error and fallback rate against their baselines: each signal's
    state now, its incidents in the window with their size and traces, and the budgets."""
    st.subheader("Anomalies and budgets")
    try:
        statuses = detect_anomalies(trace_store, window, anomaly_policy(settings))
        budgets = budget_statuses(trace_store, settings, window)
    except TraceStoreUnavailable as exc:
        st.warning(str(exc))
        return
    for column, status in zip(st.columns(len(statuses)), statuses, strict=True):
        column.metric(
            f"{STATE_ICONS[status.state]} {status.signal.value}",
            status.state.value,
            _latest(status),
            delta_color="off",
        )
    incidents = incident_table(statuses)
    if incidents.empty:
        st.caption(
            "No spike in this range: every minute (hour, over a day) with at least "
            f"{settings.anomaly_min_requests} calls stayed within {settings.anomaly_warning_z} "
            "robust deviations of its baseline."
        )
    else:
        st.dataframe(
            incidents,
            hide_index=True,
            width="stretch",
            column_config={"traces": st.column_config.LinkColumn(display_text="open traces")},
        )
    if budgets:
        st.dataframe(
            budget_table(budgets),
            hide_index=True,
            width="stretch",
            column_config={"traces": st.column_config.LinkColumn(display_text="open traces")},
        )
    else:
        st.caption("No daily budget is set (INSIGHTS__DAILY_BUDGET_USD or the Admin page).")


def incident_table(statuses: Sequence[SignalStatus]) -> pd.DataFrame:
    """One row per incident, newest first."""
    rows = [
        {
            "state": f"{STATE_ICONS[i.state]} {i.state.value}",
            "signal": i.signal.value,
            "from": i.start,
            "to": i.end,
            "size": i.size,
            "calls": i.requests,
            "traces": i.traces_link,
        }
        for s in statuses
        for i in s.incidents
    ]
    columns = ["state", "signal", "from", "to", "size", "calls", "traces"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values("from", ascending=False) if rows else frame


def budget_table(budgets: Sequence[BudgetStatus]) -> pd.DataFrame:
    """One row per budget."""
    return pd.DataFrame(
        {
            "state": [f"{STATE_ICONS[b.state]} {b.state.value}" for b in budgets],
            "budget": [b.size for b in budgets],
            "traces": [b.traces_link for b in budgets],
        }
    )


def _latest(status: SignalStatus) -> str | None:
    if math.isnan(status.latest):
        return None
    if status.signal.is_rate:
        return f"{status.latest:.1%} (baseline {status.baseline:.1%})"
    if status.signal is Signal.COST:
        return f"${status.latest:.4f}/bucket (baseline ${status.baseline:.4f})"
    return f"{status.latest / 1000:.2f} s (baseline {status.baseline / 1000:.2f} s)"


def render_experiments(
    trace_store: Engine,
    experiments: Sequence[ExperimentInfo],
    window: Window,
    settings: InsightSettings,
) -> None:
    """Each experiment that ran in the window: its verdict, its variants' figures with their
    intervals, and the test behind each metric."""
    st.subheader("Experiments")
    shown = [e for e in experiments if _overlaps(e, window)]
    if not shown:
        st.info("No experiment ran in this range. Admins create and start them on the Admin page.")
        return
    policy = stats_policy(settings)
    for experiment in shown:
        try:
            result = analyse_experiment(trace_store, analysis_spec(experiment), window.end, policy)
        except TraceStoreUnavailable as exc:
            st.warning(str(exc))
            return
        _show_experiment(experiment, result, policy)


def _show_experiment(
    experiment: ExperimentInfo, result: ExperimentResult, policy: StatsPolicy
) -> None:
    st.markdown(
        f"**{experiment.name}** · {experiment.status.value} · decided on "
        f"{experiment.metric.label} · minimum {experiment.min_sample:,} conversations per variant"
    )
    significant = any(t.significant and t.metric is experiment.metric for t in result.tests)
    (st.success if significant and not result.still_needed else st.info)(result.verdict)
    st.dataframe(variant_table(result), hide_index=True, width="stretch")
    st.caption(
        f"Intervals at {1 - policy.alpha:.0%}. Rates: two-proportion z-test, Wilson intervals. "
        "Cost and quality: Welch's t-test on per-conversation means (the bill is a mean; the "
        "variants' spreads differ). Latency: Mann–Whitney U on per-call latency (skewed, "
        "long-tailed), quantile intervals from order statistics."
    )
    st.dataframe(test_table(result), hide_index=True, width="stretch")


def variant_table(result: ExperimentResult) -> pd.DataFrame:
    """One row per variant: counts, then each metric as ``value (low–high)``."""
    return pd.DataFrame(
        {
            "variant": [v.name for v in result.variants],
            "customers": [v.customers for v in result.variants],
            "conversations": [v.conversations for v in result.variants],
            "requests": [v.requests for v in result.variants],
            "cost / conversation": [_money(v.cost_per_conversation) for v in result.variants],
            "p50 latency": [_seconds(v.p50_ms) for v in result.variants],
            "p95 latency": [_seconds(v.p95_ms) for v in result.variants],
            "thumbs-up": [_share(v.thumbs_up) for v in result.variants],
            "quality": [_plain(v.quality) for v in result.variants],
            "escalations": [_share(v.escalation) for v in result.variants],
        }
    )


def test_table(result: ExperimentResult) -> pd.DataFrame:
    """One row per candidate and metric: the test, the change against control, p, verdict."""
    rows = []
    for test in result.tests:
        c = test.comparison
        rows.append(
            {
                "variant": test.variant,
                "metric": test.metric.label,
                "test": c.test,
                "change vs control": "—" if math.isnan(c.relative_change)
                else f"{c.relative_change:+.1%}",
                "p": "—" if math.isnan(c.p_value) else f"{c.p_value:.4f}",
                "significant": "yes" if test.significant else "no",
            }
        )  # fmt: skip
    return pd.DataFrame(rows, columns=["variant", "metric", "test", "change vs control", "p",
                                       "significant"])  # fmt: skip


def _overlaps(experiment: ExperimentInfo, window: Window) -> bool:
    start: datetime | None = experiment.started_at
    if start is None:
        return False
    end = experiment.ended_at or window.end
    return start < window.end and end > window.start


def _interval(estimate: Estimate, fmt: str) -> str:
    if estimate.n == 0 or math.isnan(estimate.value):
        return "—"
    text = fmt.format(estimate.value)
    if math.isnan(estimate.low) or math.isnan(estimate.high):
        return text
    return f"{text} ({fmt.format(estimate.low)}–{fmt.format(estimate.high)})"


def _money(estimate: Estimate) -> str:
    return _interval(estimate, "${:.4f}")


def _seconds(estimate: Estimate) -> str:
    scaled = Estimate(estimate.value / 1000, estimate.low / 1000, estimate.high / 1000, estimate.n)
    return _interval(scaled, "{:.2f} s")


def _share(estimate: Estimate) -> str:
    return _interval(estimate, "{:.0%}")


def _plain(estimate: Estimate) -> str:
    return _interval(estimate, "{:.2f}")


def render_recommendations(
    trace_store: Engine,
    window: Window,
    settings: InsightSettings,
    experiments: Sequence[ExperimentInfo] = (),
) -> None:
    """What to change, each with its money for the range and the spans it rests on; only what
    the range's data supports is shown."""
    st.subheader("Recommendations")
    policy = stats_policy(settings)
    try:
        results = [
            analyse_experiment(trace_store, analysis_spec(e), window.end, policy)
            for e in experiments
            if _overlaps(e, window)
        ]
        found = recommend(trace_store, window, results, policy)
    except TraceStoreUnavailable as exc:
        st.warning(str(exc))
        return
    if not found:
        st.info(
            "Nothing to recommend for this range: no cheaper model or variant of equal quality, "
            "no repeated questions, no long prompts and no failing primary in its spans."
        )
        return
    for item in found:
        with st.container(border=True):
            left, right = st.columns([3, 1])
            left.markdown(f"**{item.title}**")
            right.metric("saves in this range", f"${item.savings_usd:,.2f}")
            st.caption(f"{item.detail} From {item.spans:,} spans.")
            st.markdown(f"[Open the traces of this range]({item.link})")
