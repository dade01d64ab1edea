from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.db.models import Role
from tests.pages.conftest import APP

APP_TIMEOUT_S = 180


def _as(role: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT_S).run()
    assert not at.exception, at.exception
    at.session_state["role"] = Role(role)
    return at.run()


def _switch(at: AppTest, role: str, page: str) -> None:
    """AppTest runs a switched-to page on its own, without app.py's sidebar: set the role."""
    at.session_state["role"] = Role(role)
    at.switch_page(page).run()


def test_agent_reply_reaches_the_customers_chat(app_env: Path) -> None:
    at = _as("customer")
    at.switch_page("pages/customer_chat.py").run()
    at.chat_input[0].set_value("Can a person help me with a damaged stove?").run()
    customer = at.selectbox(key="chat_user_id").value

    _switch(at, "agent", "pages/agent_view.py")
    picker = next(s for s in at.selectbox if s.label == "Open a conversation")
    picker.set_value(picker.options[0]).run()
    at.text_area(key="agent_draft").set_value("Hi, I'm Sam. I'll send a replacement today.").run()
    next(b for b in at.button if b.label == "Send as agent").click().run()
    assert not at.exception, at.exception

    _switch(at, "customer", "pages/customer_chat.py")
    assert at.selectbox(key="chat_user_id").value == customer
    texts = [m.value for message in at.chat_message for m in message.markdown]
    assert "Hi, I'm Sam. I'll send a replacement today." in texts
    assert any(c.value == "Support agent" for c in at.caption)


def test_ai_draft_fills_the_reply_box(app_env: Path) -> None:
    at = _as("customer")
    at.switch_page("pages/customer_chat.py").run()
    at.chat_input[0].set_value("Where is my order? It is late and I am upset").run()
    _switch(at, "agent", "pages/agent_view.py")
    picker = next(s for s in at.selectbox if s.label == "Open a conversation")
    picker.set_value(picker.options[0]).run()

    next(b for b in at.button if b.label == "Draft a reply").click().run()

    assert not at.exception, at.exception
    assert at.text_area(key="agent_draft").value.strip()
    assert any("Intent" in m.value for m in at.markdown)


def test_customers_do_not_see_the_agent_view(app_env: Path) -> None:
    at = _as("customer")

    at.switch_page("pages/agent_view.py").run()

    assert not any("Agent view" in t.value for t in at.title)
    assert at.info and "for support staff" in at.info[0].value
