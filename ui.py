"""Support Observatory: the frame. Pages are in `pages/`, logic in `core/` and `observability/`.

Hosted with sign-in (``[auth]`` in Streamlit's secrets), nobody sees anything before signing in,
and the navigation is the signed-in person's role's. Without it, the demo's navigation is built
before the first-start bootstrap, so a fresh start shows its progress in the main area under the
role's own pages (never Streamlit's automatic list of `pages/` files).
"""

import sys

import streamlit as st

from pages._shared.auth import account_sidebar, auth_configured, demo_notice, signed_in_person
from pages._shared.navigation import PAGES, pages_for
from pages._shared.roles import (
    current_role,
    follow_trace_link,
    role_switch,
    staff_picker,
    stand_ins,
)

person = signed_in_person() if auth_configured() else None
role = person.role.value if person is not None else current_role()
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
if person is not None:
    account_sidebar(person)
else:
    role_switch()
    demo_notice()
starting = st.empty()
if "pages._shared.startup" not in sys.modules:
    # The process's first page run says so at once (a spinner would wait 0.5 s to show).
    starting.caption("Starting Support Observatory…")
# Imported once the navigation is drawn: providers, Qdrant and the seed take seconds.
from pages._shared.startup import bootstrap, run_page  # noqa: E402

bootstrap()
starting.empty()
if person is None:
    staff_picker(role)
follow_trace_link(role)
run_page(page)
