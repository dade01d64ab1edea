"""The Admin page's insight sections: experiments, daily budgets, price overrides, alerts.

Each ``render_*`` draws one section and acts through ``core`` or ``observability``; what an
admin types wrong is refused with the library's own sentence, shown beside the form.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from core.audit import AuditAction, record_audit
from core.errors import ObservatoryError
from core.experiments import (
    ExperimentInfo,
    ExperimentStatus,
    Variant,
    create_experiment,
    end_experiment,
    list_experiments,
    start_experiment,
)
from core.settings import InsightSettings
from observability.insights import Metric
from observability.insights.alerts import list_sent_alerts
from observability.insights.budgets import BudgetError, load_budgets, save_budget
from observability.pricing import (
    PriceOverrideError,
    PriceRule,
    list_price_overrides,
    parse_rate,
    save_price_override,
)
from observability.queries import TraceStoreUnavailable
from pages._shared.insights_panels import evaluate_alerts

VARIANT_COLUMNS = ["name", "route", "system prompt", "weight"]
STARTER_VARIANTS = pd.DataFrame(
    [
        {"name": "control", "route": "gpt-4o-mini", "system prompt": "", "weight": 50.0},
        {"name": "candidate", "route": "claude-haiku-4-5", "system prompt": "", "weight": 50.0},
    ],
    columns=VARIANT_COLUMNS,
)


def render_experiment_admin(db: Engine, actor: str) -> None:
    """Create an experiment (a draft), start it, end it; every experiment with its state.
    Each change is audited as ``actor``'s."""
    st.subheader("Experiments")
    _flash("experiments")
    experiments = list_experiments(db, active_only=False)
    if experiments:
        st.dataframe(_experiment_table(experiments), hide_index=True, width="stretch")
        for experiment in experiments:
            _lifecycle_buttons(db, experiment, actor)
    else:
        st.caption("No experiment yet.")
    with st.form("admin_new_experiment", clear_on_submit=False):
        st.markdown("**New experiment** (saved as a draft; start it below)")
        name = st.text_input("Name", key="admin_experiment_name")
        description = st.text_input("What it tests", key="admin_experiment_description")
        metric = st.selectbox(
            "Decided on", list(Metric), format_func=lambda m: m.label, key="admin_experiment_metric"
        )
        min_sample = st.number_input(
            "Minimum conversations per variant", min_value=2, value=100, step=10,
            key="admin_experiment_min_sample",
        )  # fmt: skip
        variants = st.data_editor(
            STARTER_VARIANTS,
            num_rows="dynamic",
            hide_index=True,
            key="admin_experiment_variants",
            column_config={
                "route": st.column_config.TextColumn(help="Models tried in order, comma-separated"),
                "weight": st.column_config.NumberColumn(help="Share of new customers", min_value=0),
            },
        )
        if st.form_submit_button("Create experiment"):
            _create(db, actor, name, description,
                    Metric(metric or Metric.COST_PER_CONVERSATION), int(min_sample),
                    variants)  # fmt: skip


def _experiment_table(experiments: list[ExperimentInfo]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "experiment": [e.name for e in experiments],
            "state": [e.status.value for e in experiments],
            "decided on": [e.metric.label for e in experiments],
            "minimum sample": [e.min_sample for e in experiments],
            "variants": [
                "; ".join(
                    f"{v.name} ({v.weight:g}): {' → '.join(v.route) or 'default route'}"
                    + (" + prompt" if v.prompt else "")
                    for v in e.variants
                )
                for e in experiments
            ],
            "started": [_moment(e.started_at) for e in experiments],
            "ended": [_moment(e.ended_at) for e in experiments],
        }
    )


def _moment(at: datetime | None) -> str:
    return "—" if at is None else at.strftime("%Y-%m-%d %H:%M UTC")


def _lifecycle_buttons(db: Engine, experiment: ExperimentInfo, actor: str) -> None:
    if experiment.status is ExperimentStatus.DRAFT:
        st.button(
            f"Start {experiment.name}",
            key=f"admin_start_{experiment.name}",
            on_click=_act,
            args=(start_experiment, db, actor, experiment.name, AuditAction.EXPERIMENT_STARTED),
        )
    elif experiment.status is ExperimentStatus.RUNNING:
        st.button(
            f"End {experiment.name}",
            key=f"admin_end_{experiment.name}",
            on_click=_act,
            args=(end_experiment, db, actor, experiment.name, AuditAction.EXPERIMENT_ENDED),
        )


def _act(action: object, db: Engine, actor: str, name: str, audited: AuditAction) -> None:
    done = "started" if audited is AuditAction.EXPERIMENT_STARTED else "ended"
    try:
        action(db, name)  # type: ignore[operator]
        record_audit(db, actor, audited, name, f"experiment {done}")
    except ObservatoryError as exc:
        st.session_state["admin_flash_experiments"] = ("error", str(exc))
        return
    st.session_state["admin_flash_experiments"] = ("success", f"“{name}” {done}.")


def _create(
    db: Engine,
    actor: str,
    name: str,
    description: str,
    metric: Metric,
    min_sample: int,
    table: pd.DataFrame,
) -> None:
    try:
        variants = [
            Variant(
                str(row["name"] or "").strip(),
                prompt=str(row["system prompt"] or "").strip() or None,
                weight=float(row["weight"]) if pd.notna(row["weight"]) else 0.0,
                route=tuple(m.strip() for m in str(row["route"] or "").split(",") if m.strip()),
            )
            for _, row in table.iterrows()
        ]
        created = create_experiment(
            db, name, variants, description, metric=metric, min_sample=min_sample, start=False
        )
        record_audit(
            db, actor, AuditAction.EXPERIMENT_CREATED, created.name,
            f"draft decided on {metric.label}: "
            + "; ".join(f"{v.name} ({v.weight:g})" for v in created.variants),
        )  # fmt: skip
    except ObservatoryError as exc:
        st.error(str(exc))
        return
    st.session_state["admin_flash_experiments"] = ("success", f"“{created.name}” saved as a draft.")
    st.rerun()


def today() -> date:
    """The current UTC day."""
    return datetime.now(UTC).date()


def _flash(section: str) -> None:
    message = st.session_state.pop(f"admin_flash_{section}", None)
    if message:
        kind, text = message
        (st.success if kind == "success" else st.error)(text)


def render_budget_admin(
    trace_store: Engine, settings: InsightSettings, db: Engine, actor: str
) -> None:
    """Daily budgets: overall, the default per customer, and any customer's own; each change
    audited in ``db`` as ``actor``'s."""
    st.subheader("Daily budgets")
    _flash("budgets")
    try:
        budgets = load_budgets(
            trace_store, settings.daily_budget_usd, settings.customer_daily_budget_usd
        )
    except TraceStoreUnavailable as exc:
        st.warning(str(exc))
        return
    st.caption(
        "US dollars per UTC day; a warning from 80 % spent, an alert once spent. Settings "
        "(INSIGHTS__DAILY_BUDGET_USD, INSIGHTS__CUSTOMER_DAILY_BUDGET_USD) give the defaults; "
        "what is saved here wins."
    )
    rows = [("overall", budgets.overall), ("every customer", budgets.per_customer)]
    rows += [(f"customer {scope}", value) for scope, value in budgets.customers]
    st.dataframe(
        pd.DataFrame(
            {
                "budget": [r[0] for r in rows],
                "per day": ["not set" if r[1] is None else f"${r[1]:,.2f}" for r in rows],
            }
        ),
        hide_index=True,
        width="stretch",
    )
    with st.form("admin_budget"):
        who = st.text_input(
            "Whose budget", value="overall",
            help="overall, * for every customer, or a customer id (as on their spans)",
        )  # fmt: skip
        amount = st.number_input("$ per day (0 removes it)", min_value=0.0, value=50.0, step=5.0)
        if st.form_submit_button("Save budget"):
            try:
                save_budget(trace_store, who, amount or None)
                record_audit(
                    db, actor, AuditAction.BUDGET_SAVED, who,
                    f"${amount:,.2f} a day" if amount else "removed",
                )  # fmt: skip
            except (BudgetError, ObservatoryError) as exc:
                st.error(str(exc))
            else:
                st.session_state["admin_flash_budgets"] = ("success", f"Budget of {who} saved.")
                st.rerun()


def render_price_admin(trace_store: Engine, db: Engine, actor: str) -> None:
    """Price overrides: what an admin has set, and a form to add or change one; each change
    audited in ``db`` as ``actor``'s."""
    st.subheader("Prices")
    _flash("prices")
    st.caption(
        "Every call is priced by the first source that knows its model: an override below, "
        "our corrections (observability/pricing/prices.json), then genai-prices. Each span "
        "names its source (observatory.cost.source); a model none knows is unpriced, never $0."
    )
    try:
        overrides = list_price_overrides(trace_store)
    except PriceOverrideError as exc:
        st.warning(str(exc))
        return
    if overrides:
        st.dataframe(_override_table(overrides), hide_index=True, width="stretch")
    else:
        st.caption("No override yet.")
    with st.form("admin_price"):
        st.markdown("**Add or change a price** (USD per 1M tokens)")
        left, middle, right = st.columns(3)
        model = left.text_input("Model", placeholder="gpt-4o-2024-05-13")
        provider = middle.selectbox("Provider", ["", "openai", "anthropic", "azure.ai.openai"],
                                    format_func=lambda p: p or "any")  # fmt: skip
        effective = right.date_input("Effective from", value=today())
        columns = st.columns(4)
        rates = {
            name: columns[i % 4].text_input(label) for i, (name, label) in enumerate(PRICE_FIELDS)
        }
        if st.form_submit_button("Save price"):
            _save_price(trace_store, db, actor, model, provider, effective, rates)


def render_alert_admin(trace_store: Engine, settings: InsightSettings) -> None:
    """Alerts of the last 24 hours, and those delivered to the webhook."""
    st.subheader("Alerts")
    try:
        alerts = evaluate_alerts(trace_store, settings)
        sent = list_sent_alerts(trace_store)
    except TraceStoreUnavailable as exc:
        st.warning(str(exc))
        return
    if settings.webhook_url:
        st.caption(f"Alerts are POSTed, signed, to {settings.webhook_url} once each.")
    else:
        st.caption("No webhook is configured (INSIGHTS__WEBHOOK_URL): alerts are only shown.")
    if alerts:
        st.dataframe(
            pd.DataFrame(
                {
                    "state": [a.state.value for a in alerts],
                    "what": [a.title for a in alerts],
                    "since": [a.start for a in alerts],
                    "size": [a.size for a in alerts],
                    "traces": [a.link for a in alerts],
                }
            ),
            hide_index=True,
            width="stretch",
            column_config={"traces": st.column_config.LinkColumn(display_text="open traces")},
        )
    else:
        st.info("Nothing to alert on in the last 24 hours.")
    if sent:
        st.dataframe(
            pd.DataFrame(
                {
                    "delivered": [s.delivered_at for s in sent],
                    "alert": [str(s.payload.get("size", s.key)) for s in sent],
                }
            ),
            hide_index=True,
            width="stretch",
        )


PRICE_FIELDS = (
    ("input", "Input"),
    ("output", "Output"),
    ("cached_input", "Cache read"),
    ("cache_write", "Cache write (5 min)"),
    ("cache_write_1h", "Cache write (1 hour)"),
    ("long_context_threshold", "Long context from (input tokens)"),
    ("long_input", "Long-context input"),
    ("long_output", "Long-context output"),
)


def _override_table(overrides: list[PriceRule]) -> pd.DataFrame:
    def rate(value: Decimal | None) -> str:
        return "—" if value is None else f"${value}"

    return pd.DataFrame(
        {
            "model": [r.model for r in overrides],
            "provider": [r.provider or "any" for r in overrides],
            "from": [r.effective for r in overrides],
            "input": [rate(r.input) for r in overrides],
            "output": [rate(r.output) for r in overrides],
            "cache read": [rate(r.cached_input) for r in overrides],
            "cache write": [rate(r.cache_write) for r in overrides],
            "1-hour write": [rate(r.cache_write_1h) for r in overrides],
            "long context": [
                "—" if r.long_context_threshold is None
                else f"> {r.long_context_threshold:,}: {rate(r.long_input)} / {rate(r.long_output)}"
                for r in overrides
            ],
        }
    )  # fmt: skip


def _save_price(
    trace_store: Engine,
    db: Engine,
    actor: str,
    model: str,
    provider: str,
    effective: object,
    rates: dict[str, str],
) -> None:
    try:
        if not isinstance(effective, date):
            raise PriceOverrideError("Pick the date the price applies from.")
        parsed = {
            name: parse_rate(rates[name], label.lower())
            for name, label in PRICE_FIELDS
            if name != "long_context_threshold"
        }
        if parsed["input"] is None or parsed["output"] is None:
            raise PriceOverrideError("Give at least the input and output prices.")
        threshold = rates["long_context_threshold"].replace(",", "").strip()
        if threshold and not threshold.isdigit():
            raise PriceOverrideError("The long-context threshold is a whole number of tokens.")
        rule = PriceRule(
            model=model,
            effective=effective,
            input=parsed["input"],
            output=parsed["output"],
            provider=provider,
            cached_input=parsed["cached_input"],
            cache_write=parsed["cache_write"],
            cache_write_1h=parsed["cache_write_1h"],
            long_context_threshold=int(threshold) if threshold else None,
            long_input=parsed["long_input"],
            long_output=parsed["long_output"],
        )
        saved = save_price_override(trace_store, rule)
        record_audit(
            db, actor, AuditAction.PRICE_OVERRIDE_SAVED, saved.model,
            f"{saved.provider or 'any provider'}: ${saved.input} in / ${saved.output} out per "
            f"1M tokens from {saved.effective}",
        )  # fmt: skip
    except (PriceOverrideError, ObservatoryError) as exc:
        st.error(str(exc))
        return
    st.session_state["admin_flash_prices"] = (
        "success",
        f"{saved.model} is priced at ${saved.input} / ${saved.output} per 1M tokens from "
        f"{saved.effective}.",
    )
    st.rerun()
