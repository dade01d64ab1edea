"""Analytics: spend, traffic, latency, reliability, cache and quality over time, live."""

from functools import partial

import altair as alt
import pandas as pd
import streamlit as st

from core.experiments import list_experiments
from observability import dashboard
from observability.analytics import REST
from observability.dashboard import Tile, Unit
from observability.export import ExportFormat
from observability.queries import AnalyticsFilters, Dimension, TraceStoreUnavailable, Window
from pages._shared import analytics_charts as charts
from pages._shared import analytics_view as data
from pages._shared.analytics_view import ANY, CUSTOM, FILTERS, GROUPS, PREFIX, RANGES, REFRESH
from pages._shared.auth import check_page_role
from pages._shared.insights_panels import (
    render_anomalies,
    render_experiments,
    render_recommendations,
)
from pages._shared.resources import get_services
from pages._shared.roles import current_user
from pages._shared.startup import history_progress

check_page_role(__file__)

TOP = 10
FILTER_LABELS = {"experiment": "Experiment", "variant": "Variant", "scenario": "Scenario",
                 "customer": "Customer", "environment": "Environment", "provider": "Provider",
                 "model": "Model"}  # fmt: skip


def shown(tile: Tile) -> tuple[str, str | None]:
    """A tile's value and its change against the period before, as text."""
    if tile.value is None:
        return "—", None
    match tile.unit:
        case Unit.USD:
            value = f"${tile.value:,.4f}" if tile.value < 10 else f"${tile.value:,.2f}"
        case Unit.COUNT:
            value = f"{tile.value:,.0f}"
        case Unit.MS:
            value = f"{tile.value:,.0f} ms"
        case Unit.SHARE:
            value = f"{tile.value:.1%}"
    change = tile.change
    if change is None:
        return value, None
    if tile.unit is Unit.SHARE:
        return value, f"{change * 100:+.1f} pts"
    return value, f"{change:+.1%}"


def chart(figure: alt.Chart, frame: pd.DataFrame, empty: str) -> None:
    """The chart, or a sentence when its frame has nothing to show."""
    if frame.empty:
        st.caption(empty)
    else:
        st.altair_chart(figure, width="stretch")


def traces_link(by: Dimension, key: object) -> str | None:
    """The Traces page filtered to one conversation or customer."""
    if key == REST or not key:
        return None
    name = "conversation" if by is Dimension.CONVERSATION else "customer"
    return f"traces?{name}={key}"


def breakdown(window: Window, filters: AnalyticsFilters, by: Dimension, title: str) -> None:
    """The top spenders by customer or conversation, each with a link to its traces."""
    frame = data.spenders(window, filters, by, TOP)
    st.markdown(f"**{title}** (top {TOP}, then the rest summed)")
    if frame.empty:
        st.caption("No spending in this range.")
        return
    table = frame.assign(traces=[traces_link(by, k) for k in frame[by.value]])
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "conversation_id": "conversation",
            "user_id": "customer",
            "customer": None if by is Dimension.USER else "customer",
            "cost_usd": st.column_config.NumberColumn("cost", format="$%.4f"),
            "unpriced": "unpriced calls",
            "last_seen": st.column_config.DatetimeColumn("last call", format="D MMM HH:mm"),
            "traces": st.column_config.LinkColumn("traces", display_text="open traces"),
        },
    )


current_user()  # staff only: the charts cover every customer's conversations
services = get_services()

st.title("📈 Analytics")
st.caption(
    "Spend, traffic, latency, reliability, cache and quality of every LLM call and chat turn, "
    "from the trace store's rollups. Each figure is compared with the period of the same "
    "length just before. The view is in the address bar: copy it to share it."
)
history_progress()

data.start_from_url()
controls = st.columns([2, 2, 1, 1])
controls[0].selectbox("Time range", [*RANGES, CUSTOM], key=PREFIX + "range")
if st.session_state[PREFIX + "range"] == CUSTOM:
    controls[1].date_input("Days (UTC)", key=PREFIX + "days")
controls[2].selectbox("Group by", list(GROUPS), key=PREFIX + "group")
controls[3].selectbox("Refresh", list(REFRESH), key=PREFIX + "refresh")

try:
    options = data.filter_options(
        data.range_window(st.session_state[PREFIX + "range"], data.chosen_days())
    )
except TraceStoreUnavailable as exc:
    st.error(str(exc), icon="⚠️")
    st.stop()
columns = st.columns(len(FILTERS))
for column, name in zip(columns, FILTERS, strict=True):
    values = options.get(name, [])
    picked = st.session_state[PREFIX + name]
    choices = [ANY, *values, *([picked] if picked not in (ANY, *values) else [])]
    column.selectbox(FILTER_LABELS[name], choices, key=PREFIX + name)
view = data.current_view()


@st.fragment(run_every=view.refresh_s)
def live() -> None:
    """Everything that refreshes: tiles, charts, breakdowns and the model table."""
    window = view.window()
    services.observatory.force_flush()
    try:
        periods = data.periods(window, view.filters)
        outcomes = data.outcomes(window, view.filters)
        over_time = data.over_time(window, view.filters)
    except TraceStoreUnavailable as exc:
        st.error(str(exc), icon="⚠️")
        return
    st.caption(
        f"{window.start:%d %b %H:%M} – {window.end:%d %b %H:%M} UTC, compared with "
        f"{window.start - (window.end - window.start):%d %b %H:%M} – {window.start:%d %b %H:%M}."
    )

    tiles = dashboard.tiles(periods, outcomes)
    for column, tile in zip(st.columns(len(tiles)), tiles, strict=True):
        value, change = shown(tile)
        column.metric(
            tile.label,
            value,
            change,
            delta_color="normal" if tile.higher_is_better else "inverse",
            help=tile.help,
        )
    unpriced = dashboard.unpriced(periods)
    if unpriced.calls:
        st.warning(
            f"{unpriced.calls:,} calls ({unpriced.tokens:,} tokens) had no price: their models "
            "are not in the price list. Every cost on this page leaves them out.",
            icon="🏷️",
        )
    calls_now = periods[periods["period"] == dashboard.CURRENT]["requests"].sum()
    turns_now = outcomes.turns[outcomes.turns["period"] == dashboard.CURRENT]["turns"].sum()
    if calls_now == 0 and turns_now == 0:
        st.info(
            "Nothing in this range with these filters: no LLM call and no chat turn. Widen the "
            "range, clear a filter, or ask something in the customer chat."
        )
        return

    group = view.group.value
    st.subheader("Cost and usage")
    left, right = st.columns(2)
    with left:
        frame = dashboard.cost_frame(over_time, group)
        empty = "No priced call in this range: there is no cost to chart."
        chart(charts.cost(frame, group), frame, empty)
    with right:
        frame = dashboard.request_frame(over_time, group)
        chart(charts.requests(frame, group), frame, "No LLM call in this range.")
    frame = dashboard.token_frame(over_time)
    chart(charts.tokens(frame), frame, "No tokens in this range.")

    st.subheader("Latency and reliability")
    left, right = st.columns(2)
    with left:
        frame = dashboard.latency_frame(periods)
        chart(charts.latency(frame), frame, "No timed call in this range.")
    with right:
        frame = dashboard.reliability_frame(over_time)
        chart(charts.rates(frame), frame, "No LLM call in this range.")

    st.subheader("Cache")
    frame = dashboard.cache_frame(over_time)
    left, right = st.columns(2)
    with left:
        chart(charts.cache_hits(frame), frame, "No LLM call in this range.")
    with right:
        chart(charts.cache_savings(frame), frame, "No LLM call in this range.")

    st.subheader("Quality and privacy")
    left, right = st.columns(2)
    with left:
        frame = dashboard.quality_frame(outcomes)
        chart(charts.quality(frame), frame, "No chat turn in this range.")
    with right:
        frame = dashboard.redaction_frame(outcomes)
        chart(charts.redactions(frame), frame, "No personal data was redacted in this range.")

    st.subheader("Who spends")
    left, right = st.columns(2)
    with left:
        breakdown(window, view.filters, Dimension.USER, "Cost per customer")
    with right:
        breakdown(window, view.filters, Dimension.CONVERSATION, "Cost per conversation")

    st.subheader("Models compared")
    table = dashboard.model_table(periods, outcomes)
    if table.empty:
        st.caption("No LLM call in this range.")
    else:
        st.dataframe(table, hide_index=True, width="stretch", column_config={
            "cost_usd": st.column_config.NumberColumn("cost", format="$%.4f"),
            "cost_per_request": st.column_config.NumberColumn("$ / request", format="$%.5f"),
            "cost_per_1k_tokens": st.column_config.NumberColumn("$ / 1k tokens", format="$%.5f"),
            "p50_ms": st.column_config.NumberColumn("p50 ms", format="%.0f"),
            "p95_ms": st.column_config.NumberColumn("p95 ms", format="%.0f"),
            "ttfc_p50_ms": st.column_config.NumberColumn("first chunk p50 ms", format="%.0f"),
            "error_rate": st.column_config.NumberColumn("errors", format="percent"),
            "fallback_rate": st.column_config.NumberColumn("fallbacks", format="percent"),
            "thumbs_up_rate": st.column_config.NumberColumn("thumbs up", format="percent"),
            "quality": st.column_config.NumberColumn("quality", format="%.2f"),
        })  # fmt: skip


live()

window = view.window()
insights = services.settings.insights
experiments = list_experiments(services.db, active_only=False)
render_anomalies(services.trace_store, window, insights)
render_experiments(services.trace_store, experiments, window, insights)
render_recommendations(services.trace_store, window, insights, experiments)

st.subheader("Export")
st.caption(
    "The spans of this range and filters, every column, as CSV, JSON lines or Parquet. Summing "
    "the cost of the LLM calls in a file gives the Spend above."
)
if st.button("Prepare downloads", key=PREFIX + "export"):
    try:
        size = data.export_size(window, view.filters)
    except TraceStoreUnavailable as exc:
        st.error(str(exc), icon="⚠️")
        st.stop()
    if size > data.EXPORT_PAGE_ROWS:
        st.info(
            f"This range holds {size:,} spans; a download from this page holds up to "
            f"{data.EXPORT_PAGE_ROWS:,}. Narrow the range or the filters, or use the API's "
            "export jobs, which stream any size."
        )
    else:
        stamp = f"{window.start:%Y%m%d-%H%M}-{window.end:%Y%m%d-%H%M}"
        for column, fmt in zip(st.columns(len(ExportFormat)), ExportFormat, strict=True):
            column.download_button(
                f"{fmt.value.upper()} ({size:,} spans)",
                data=partial(data.export_file, window, view.filters, fmt),
                file_name=f"spans-{stamp}.{fmt.value}",
                mime=fmt.mime,
                on_click="ignore",
            )
