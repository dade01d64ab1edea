"""Traces: every traced turn, newest first, and the span waterfall of the one you pick."""

import math
import re
from datetime import UTC, datetime, timedelta

import pandas as pd
import streamlit as st

from core.conversation.turn_titles import customer_words
from observability.queries import TraceFilters, TraceStoreUnavailable, Window
from pages._shared.auth import check_page_role
from pages._shared.chat_widgets import format_cost
from pages._shared.resources import get_services
from pages._shared.roles import current_user
from pages._shared.trace_charts import waterfall

check_page_role(__file__)

WINDOWS = {
    "Last hour": timedelta(hours=1),
    "Last 24 hours": timedelta(days=1),
    "Last 7 days": timedelta(days=7),
    "Last 30 days": timedelta(days=30),
}
LINKED = "Linked range"
PAGE_SIZE = 50
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")
KB_ROOTS = ("retrieval ", "embeddings ")
"""Root spans of the Knowledge base page's own searches and indexing (a chat turn's retrieval
and embeddings sit under its ``turn`` span)."""
SHOWN_COLUMNS = [
    *("start_time", "root_name", "status", "duration_ms", "call_count", "tokens", "cost"),
    *("model", "provider", "conversation_id", "trace_id"),
]


def trace_cost(cost: float | None) -> str:
    """A trace's cost, ``—`` when none of its calls had one. (Trace rows carry no price
    status: whether a call was unpriced shows on the trace itself, see ``spans_cost``.)"""
    if cost is None or (isinstance(cost, float) and math.isnan(cost)):
        return "—"
    return format_cost(cost)


def spans_cost(spans: pd.DataFrame) -> str:
    """The cost of one trace's calls, saying so when some of them had no price."""
    unpriced = int((spans["cost_status"] == "unpriced").sum())
    priced = spans["cost_usd"].dropna()
    if not len(priced):
        return "unpriced" if unpriced else "—"
    amount = format_cost(priced.sum())
    return f"{amount} + {unpriced} unpriced" if unpriced else amount


def plain(text: str) -> str:
    """``text`` escaped to show as typed in Markdown."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text)


def trace_names(table: pd.DataFrame, words: dict[str, str]) -> list[str]:
    """A turn named by the start of the customer's message; any other trace by its root span."""
    return [
        f"turn · {words[trace_id]}" if root == "turn" and trace_id in words else str(root)
        for trace_id, root in zip(table["trace_id"], table["root_name"], strict=True)
    ]


def linked_range() -> Window | None:
    """The ``start`` and ``end`` of a link from an alert or a recommendation (ISO times, UTC);
    ``None`` when the address has none, or says so in a sentence when they do not read."""
    start, end = st.query_params.get("start"), st.query_params.get("end")
    if not start or not end:
        return None
    try:
        window = Window(datetime.fromisoformat(start), datetime.fromisoformat(end))
    except ValueError:
        st.warning("The link's time range does not read as two dates; showing the last 24 hours.")
        return None
    if window.start.tzinfo is None or window.end.tzinfo is None:
        window = Window(window.start.replace(tzinfo=UTC), window.end.replace(tzinfo=UTC))
    return window if window.start < window.end else None


def chat_models(spans: pd.DataFrame) -> str:
    """The chat models a trace called, in order (its embeddings and retrieval left out)."""
    chats = spans[spans["operation"].isin(["chat", "text_completion"])]
    models = chats["response_model"].fillna(chats["request_model"]).dropna()
    return ", ".join(dict.fromkeys(str(m) for m in models)) or "—"


current_user()  # staff only: traces show every customer's conversations
services = get_services()
services.observatory.force_flush()
wanted = st.query_params.get("trace")
conversation = st.query_params.get("conversation")  # links from Analytics: one conversation's
customer = st.query_params.get("customer")  # or one customer's traces
linked = linked_range()  # links from alerts and recommendations: one time range

st.title("🔎 Traces")
st.caption(
    "One trace per turn: retrieval, embeddings, every LLM attempt (fallbacks included), tools "
    "and summaries, each priced. Open one to see where the time and money went."
)

left, middle, right = st.columns([2, 2, 3])
choices = [LINKED, *WINDOWS] if linked else list(WINDOWS)
default = 0 if linked else (3 if conversation or customer else 1)
window = left.selectbox("Time", choices, index=default)
status = middle.segmented_control("Status", ["ok", "error"], default=None)
text = right.text_input(
    "Search span names and attributes", placeholder="e.g. gpt-4o or get_order_status"
)
kb_traces = st.toggle(
    "Show knowledge-base page traces",
    value=False,
    help="Searches and indexing run from the Knowledge base page; a chat turn's own retrieval "
    "is always inside its turn.",
)


span = linked if linked and window == LINKED else Window.last(WINDOWS[window])
filters = TraceFilters(
    start=span.start,
    end=span.end,
    status=status,
    text=text or None,
    hide_roots=() if kb_traces else KB_ROOTS,
    conversation_id=conversation,
    user_id=customer,
)
if conversation or customer:
    whose = f"conversation {conversation}" if conversation else f"customer {customer}"
    st.caption(f"Showing the traces of {whose} (opened from Analytics).")
if linked and window == LINKED:
    st.caption(f"Showing traces from {span.start:%d %b %H:%M} to {span.end:%d %b %H:%M} UTC.")
try:
    page = services.traces.list_traces(filters, page=1, page_size=PAGE_SIZE)
except TraceStoreUnavailable as exc:
    st.error(str(exc), icon="⚠️")
    st.stop()
table = page.traces

if table.empty and not wanted:
    if text:
        st.info(
            f"No trace in this window has a span whose name or attributes contain “{plain(text)}”. "
            "Text search covers span names and attributes (models, providers, tool names and "
            "arguments, ids, errors), not what the customer wrote unless content capture is on."
        )
    else:
        st.info("No traces in this window yet: ask something in the customer chat and come back.")
    st.stop()

if not table.empty:
    ids = [str(trace_id) for trace_id in table["trace_id"]]
    models = services.traces.chat_models(ids)
    shown = table.assign(
        root_name=trace_names(table, customer_words(services.db, ids)),
        model=[models.get(trace_id, "—") for trace_id in ids],
        cost=[trace_cost(c) for c in table["cost_usd"]],
        tokens=table["input_tokens"] + table["output_tokens"],
    )[SHOWN_COLUMNS]
    picked = st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        column_config={
            "start_time": st.column_config.DatetimeColumn("started", format="D MMM HH:mm:ss"),
            "root_name": "trace",
            "duration_ms": st.column_config.NumberColumn("duration ms", format="%.0f"),
            "call_count": "LLM calls",
            "model": "chat model",
        },
        key="trace_table",
    )
    rows = picked.selection.rows if picked else []
    if rows:
        wanted = str(table.iloc[rows[0]]["trace_id"])
    if page.has_more:
        st.caption(f"Showing the newest {PAGE_SIZE}; narrow the window or search to see older.")

if not wanted:
    st.caption("Select a row to see its spans.")
    st.stop()

spans = services.traces.trace_spans(wanted)
st.divider()
if spans.empty:
    st.warning(f"There is no trace {wanted} in the trace store (it may have been sampled out).")
    st.stop()

llm = spans[spans["operation"].isin(["chat", "text_completion", "embeddings"])]
columns = st.columns(4)
columns[0].metric("Spans", len(spans))
columns[1].metric("LLM and embedding calls", len(llm))
columns[2].metric("Cost", spans_cost(spans))
columns[3].metric("Errors", int((spans["status"] == "error").sum()))
st.subheader(f"Trace {wanted}")
st.caption(f"Chat model: {chat_models(spans)}")
st.altair_chart(waterfall(spans), width="stretch")

for row in spans.itertuples():
    label = f"{'  ' * int(row.depth)}{row.name} · {row.duration_ms or 0:.1f} ms"
    if row.status == "error":
        label += f" · ⚠️ {row.error_type or 'error'}"
    with st.expander(label):
        st.json(row.attributes, expanded=False)
        if row.events:
            st.json(row.events, expanded=False)
