"""Scenarios: the eight situations the product exists to show, each run end to end by a click."""

import streamlit as st

from core.scenarios import SCENARIOS
from pages._shared import scenario_view as view
from pages._shared.auth import check_page_role
from pages._shared.resources import get_services
from pages._shared.roles import current_user

check_page_role(__file__)
current_user()
services = get_services()

st.title("🎬 Scenarios")
st.caption(
    "Each scenario runs through the same engine, tools and knowledge base as the chat, as its "
    "own demo customer, and stamps its spans with its name so Analytics can filter by it. Its "
    "insight is computed from the spans the run stored. Offline, the seeded simulator answers "
    "the same way on every run."
)
summary = st.empty()
run_all = st.button("Run all", type="primary", key=view.PREFIX + "run_all")
spent = {
    scenario.key.value: view.card(services, scenario, run_now=run_all)
    for scenario in SCENARIOS.values()
}
if run_all:
    view.run_all_summary(spent, summary)
