"""Support Observatory: the frame. Pages are in `pages/`, logic in `core/` and `observability/`.

The navigation is built before the first-start bootstrap, so a fresh start shows its progress in
the main area under the role's own pages (never Streamlit's automatic list of `pages/` files).
"""

import streamlit as st

from pages._shared.navigation import PAGES, pages_for
from pages._shared.roles import (
    current_role,
    follow_trace_link,
    role_switch,
    staff_picker,
    stand_ins,
)

role = current_role()
sections = {
    section: [
        st.Page(entry.path, title=entry.title, icon=entry.icon, default=entry is PAGES[0])
        for entry in entries
    ]
    for section, entries in pages_for(role).items()
}
next(iter(sections.values())).extend(stand_ins(role))
page = st.navigation(sections)
st.set_page_config(page_title="Support Observatory", page_icon="🔭", layout="wide")
role_switch()
with st.spinner("Starting Support Observatory…"):
    # Imported once the navigation is drawn: providers, Qdrant and the seed take seconds.
    from pages._shared.startup import bootstrap, run_page

    bootstrap()
staff_picker(role)
follow_trace_link(role)
run_page(page)
