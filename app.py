"""Support Observatory: the frame. Pages are in `pages/`, logic in `core/` and `observability/`."""

import streamlit as st

from pages._shared.navigation import PAGES, pages_for
from pages._shared.roles import role_switch
from pages._shared.startup import bootstrap

st.set_page_config(page_title="Support Observatory", page_icon="🔭", layout="wide")
bootstrap()
role = role_switch()

sections = {
    section: [
        st.Page(entry.path, title=entry.title, icon=entry.icon, default=entry is PAGES[0])
        for entry in entries
    ]
    for section, entries in pages_for(role).items()
}
st.navigation(sections).run()
