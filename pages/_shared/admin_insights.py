"""The Admin page's insight sections: experiments, daily budgets, price overrides, alerts.

Each ``render_*`` draws one section and acts through ``core`` or ``observability``; what an
admin types wrong is refused with the library's own sentence, shown beside the form.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

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
from observability.insights import Metric

VARIANT_COLUMNS = ["name", "route", "system prompt", "weight"]
STARTER_VARIANTS = pd.DataFrame(
    [
        {"name": "control", "route": "gpt-4o-mini", "system prompt": "", "weight": 50.0},
        {"name": "candidate", "route": "claude-haiku-4-5", "system prompt": "", "weight": 50.0},
    ],
    columns=VARIANT_COLUMNS,
)


def render_experiment_admin(db: Engine) -> None:
    """Create an experiment (a draft), start it, end it; every experiment with its state."""
    st.subheader("Experiments")
    _flash("experiments")
    experiments = list_experiments(db, active_only=False)
    if experiments:
        st.dataframe(_experiment_table(experiments), hide_index=True, width="stretch")
        for experiment in experiments:
            _lifecycle_buttons(db, experiment)
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
            _create(db, name, description, Metric(metric), int(min_sample), variants)


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
            "started": [e.started_at for e in experiments],
            "ended": [e.ended_at for e in experiments],
        }
    )


def _lifecycle_buttons(db: Engine, experiment: ExperimentInfo) -> None:
    if experiment.status is ExperimentStatus.DRAFT:
        st.button(
            f"Start {experiment.name}",
            key=f"admin_start_{experiment.name}",
            on_click=_act, args=(start_experiment, db, experiment.name, "started"),
        )  # fmt: skip
    elif experiment.status is ExperimentStatus.RUNNING:
        st.button(
            f"End {experiment.name}",
            key=f"admin_end_{experiment.name}",
            on_click=_act, args=(end_experiment, db, experiment.name, "ended"),
        )  # fmt: skip


def _act(action: object, db: Engine, name: str, done: str) -> None:
    try:
        action(db, name)  # type: ignore[operator]
    except ObservatoryError as exc:
        st.session_state["admin_flash_experiments"] = ("error", str(exc))
        return
    st.session_state["admin_flash_experiments"] = ("success", f"“{name}” {done}.")


def _create(
    db: Engine,
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
    except ObservatoryError as exc:
        st.error(str(exc))
        return
    st.session_state["admin_flash_experiments"] = ("success", f"“{created.name}” saved as a draft.")
    st.rerun()


def _flash(section: str) -> None:
    message = st.session_state.pop(f"admin_flash_{section}", None)
    if message:
        kind, text = message
        (st.success if kind == "success" else st.error)(text)
