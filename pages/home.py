"""Home: what the demo holds and what each part of the app runs on."""

import pandas as pd
import streamlit as st

from core.db.held import HELD_WRITES
from core.db.summary import summarise_demo_data
from core.status import (
    ComponentStatus,
    Health,
    describe_embeddings,
    describe_providers,
    describe_storage,
)
from pages._shared.auth import check_page_role
from pages._shared.navigation import ADMIN
from pages._shared.resources import get_db_engine, get_services, get_settings
from pages._shared.roles import current_role
from pages._shared.startup import history_progress

check_page_role(__file__)

settings = get_settings()
engine = get_db_engine()
services = get_services()
admin = current_role() == ADMIN  # server addresses and file paths are for admins only

st.title("🔭 Support Observatory")
history_progress()
st.write(
    "An AI customer-support desk for **Northwind Outfitters**, an outdoor-gear shop, in which "
    "every LLM call is an OpenTelemetry span: priced, stored and charted. Everything below runs "
    "on this machine with no keys: providers without a key are answered by the offline simulator "
    "through the official SDK clients."
)

st.subheader("What the demo contains")
summary = summarise_demo_data(engine)
columns = st.columns(4)
columns[0].metric("Customers", summary.users_by_role.get("customer", 0))
columns[1].metric("Orders", summary.orders)
columns[2].metric("Appointment slots, next 30 days", summary.slots_next_30_days)
columns[3].metric(
    "Knowledge-base documents", summary.documents, f"{summary.chunks} chunks", delta_color="off"
)
if summary.orders_by_status:
    orders = pd.DataFrame(
        sorted(summary.orders_by_status.items(), key=lambda item: -item[1]),
        columns=["status", "orders"],
    )
    st.bar_chart(orders, x="status", y="orders", horizontal=True, height=260)

st.subheader("Components")
store_stats = services.observatory.store_stats()
statuses = [
    *describe_storage(settings, engine, store_stats=store_stats),
    describe_embeddings(services.kb.embedding_status),
    *describe_providers(services.providers),
]


def _detail(component: ComponentStatus) -> str:
    """Why a part is down names its server or file: admins read that, others are told so."""
    if admin or component.health is Health.OK:
        return component.detail
    return f"{component.component} is not answering; an admin sees where and why here."


components = pd.DataFrame(
    [
        {
            "component": c.component,
            "backend": c.backend,
            "where": c.location,
            "status": "✅ ok" if c.health is Health.OK else "❌ down",
            "detail": _detail(c),
        }
        for c in statuses
    ]
)
if not admin:
    components = components.drop(columns=["where"])
st.table(components.set_index("component"))
for component in statuses:
    if component.health is Health.DOWN:
        st.warning(_detail(component))
held = HELD_WRITES.counts()
waiting, dropped = st.columns(2)
waiting.metric(
    "Messages held for the app database",
    held.held,
    f"{held.held_total:,} held since start, {held.stored_after_wait:,} stored since",
    delta_color="off",
    help="A customer's message waits here while the app database is unreachable and is "
    "stored once it is back.",
)
dropped.metric(
    "Spans dropped by the trace store",
    store_stats.dropped if store_stats is not None else 0,
    help="Spans that did not fit the trace store's buffer while it was unreachable.",
)
if store_stats is not None:
    st.caption("Trace store counts since start (ended = written + dropped + pending):")
    st.code(store_stats.metrics(), language="text")
