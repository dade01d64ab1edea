"""The Scenarios page's cards: a scenario's description and Run button, its steps streamed as
they happen, then its trace, totals and insight. Results stay in the session (``scenarios_``
keys) so that a rerun of the page shows them again."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from core.scenarios import SCENARIOS, Insight, Scenario, ScenarioKey, ScenarioRun, run_scenario
from core.services import Services
from pages._shared.chat_widgets import format_cost
from pages._shared.trace_charts import waterfall

log = logging.getLogger(__name__)

PREFIX = "scenarios_"
RESULTS = PREFIX + "results"
FAILED = (
    "The scenario could not be shown because of an unexpected error (it is in the server log); "
    "run it again."
)
MOST_SPANS_DRAWN = 60
"""A bigger trace is drawn down to its model calls and their parents (the A/B test's)."""


@dataclass(frozen=True)
class Shown:
    """What a card shows after a run: the steps it streamed and the run."""

    steps: tuple[str, ...]
    run: ScenarioRun


def results() -> dict[str, Shown]:
    """The session's latest run of each scenario."""
    kept: dict[str, Shown] = st.session_state.setdefault(RESULTS, {})
    return kept


def card(services: Services, scenario: Scenario, *, run_now: bool) -> float:
    """One scenario's card; runs it when its button (or Run all, ``run_now``) asks. Returns
    the seconds the run took (0 when it did not run)."""
    key = scenario.key.value
    with st.container(border=True, key=f"{PREFIX}card_{key}"):
        head, button = st.columns([5, 1])
        head.subheader(scenario.title)
        head.caption(scenario.shows)
        clicked = button.button("Run", key=f"{PREFIX}run_{key}", width="stretch")
        if scenario.settings_note:
            st.caption(f"⚙️ {scenario.settings_note}")
        if clicked or run_now:
            started = time.perf_counter()
            _run(services, scenario.key)
            return time.perf_counter() - started
        if key in results():
            _show(results()[key])
    return 0.0


def run_all_summary(spent: dict[str, float], where: st.delta_generator.DeltaGenerator) -> None:
    """How long Run all took, each scenario and in all."""
    parts = ", ".join(f"{SCENARIOS[ScenarioKey(k)].title} {s:.1f} s" for k, s in spent.items())
    where.success(f"Ran all {len(spent)} scenarios in {sum(spent.values()):.1f} s ({parts}).")


def _run(services: Services, key: ScenarioKey) -> None:
    steps: list[str] = []
    title = SCENARIOS[key].title
    finished: ScenarioRun | None = None
    try:
        with st.status(f"Running {title}…", expanded=True) as status:
            for event in run_scenario(services, key):
                if isinstance(event, ScenarioRun):
                    finished = event
                    continue
                steps.append(event.text)
                status.write(event.text)
            if finished is None:
                raise RuntimeError("the scenario ended without its run")
            failed = finished.error is not None
            status.update(
                label=f"{title}: {'stopped' if failed else 'done'} in "
                f"{finished.latency_ms / 1000:.1f} s",
                state="error" if failed else "complete",
                expanded=False,
            )
    except Exception:  # the page must never show a traceback
        log.exception("the Scenarios page failed running %s", key.value)
        st.error(FAILED)
        return
    shown = Shown(tuple(steps), finished)
    results()[key.value] = shown
    _show(shown, fresh=True)


def _show(shown: Shown, *, fresh: bool = False) -> None:
    run = shown.run
    if not fresh:
        with st.expander(f"Steps of the last run ({len(shown.steps)})"):
            for step in shown.steps:
                st.write(step)
    if run.error is not None:
        st.error(run.error, icon="⚠️")
    try:
        _totals(run)
        if run.insight is not None:
            _insight(run.insight, run.key.value)
        _trace(run)
    except Exception:
        log.exception("the Scenarios page failed drawing %s", run.key.value)
        st.error(FAILED)


def _totals(run: ScenarioRun) -> None:
    columns = st.columns(4)
    columns[0].metric("Tokens (in / out)", f"{run.input_tokens:,} / {run.output_tokens:,}")
    columns[1].metric("Cost", format_cost(run.cost_usd))
    columns[2].metric("Latency", f"{run.latency_ms / 1000:.2f} s")
    columns[3].metric("Traces", len(run.trace_ids))


def _insight(insight: Insight, key: str) -> None:
    with st.container(key=f"{PREFIX}insight_{key}"):
        st.markdown(f"**Insight.** {insight.headline}")
        if insight.facts:
            for column, fact in zip(st.columns(len(insight.facts)), insight.facts, strict=True):
                column.metric(fact.label, fact.value)
                if fact.note:
                    column.caption(fact.note)
        if insight.table:
            st.dataframe(pd.DataFrame(list(insight.table)), hide_index=True, width="stretch")


def _trace(run: ScenarioRun) -> None:
    spans = run.spans
    links = f"[Open the trace on the Traces page](/traces?trace={run.trace_id})"
    links += f" · [See every run in Analytics](/analytics?scenario={run.key.value})"
    st.markdown(links)
    if spans.empty:
        return
    trace_id = _drawn_trace(run)
    drawn = spans[spans["trace_id"] == trace_id]
    if len(drawn) > MOST_SPANS_DRAWN:
        drawn = drawn[drawn["depth"] <= 2]
    if trace_id != run.trace_id:
        st.caption(f"The waterfall shows one of the run's {len(run.trace_ids)} traces.")
    st.altair_chart(waterfall(_numbered(drawn.reset_index(drop=True))), width="stretch")


def _numbered(spans: pd.DataFrame) -> pd.DataFrame:
    """Repeated span names numbered (``turn``, ``turn #2``…), so each span has its own row."""
    seen = spans.groupby("name").cumcount() + 1
    names = [n if k == 1 else f"{n} #{k}" for n, k in zip(spans["name"], seen, strict=True)]
    return spans.assign(name=names)


def _drawn_trace(run: ScenarioRun) -> str:
    """The run's root trace, or its first trace with more than one span (the A/B test's
    conversations are their own traces)."""
    counts = run.spans["trace_id"].value_counts()
    for trace_id in run.trace_ids:
        if counts.get(trace_id, 0) > 1:
            return trace_id
    return run.trace_id
