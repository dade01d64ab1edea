"""Support Observatory: the frame. Pages are in `pages/`, logic in `core/` and `observability/`."""

import streamlit as st

from core.db.models import Role
from pages._shared.roles import role_switch
from pages._shared.startup import bootstrap

st.set_page_config(page_title="Support Observatory", page_icon="🔭", layout="wide")
bootstrap()
role = role_switch()

home = st.Page("pages/home.py", title="Home", icon="🏠", default=True)
chat = st.Page("pages/customer_chat.py", title="Customer chat", icon="💬")
agent_view = st.Page("pages/agent_view.py", title="Agent view", icon="🧑‍💼")
traces = st.Page("pages/traces.py", title="Traces", icon="🔎")
knowledge_base = st.Page("pages/knowledge_base.py", title="Knowledge base", icon="📚")

sections: dict[str, list[st.Page]] = {"Overview": [home]}
if role in (Role.CUSTOMER, Role.ADMIN):
    sections["Support"] = [chat]
if role in (Role.AGENT, Role.ADMIN):
    sections.setdefault("Support", []).append(agent_view)
    sections["Knowledge"] = [knowledge_base]

sections["Observability"] = [traces]

st.navigation(sections).run()
