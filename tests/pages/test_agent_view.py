from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.db.models import Role, TicketPriority
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


def test_agent_reply_reaches_the_customers_chat(seeded_env: Path) -> None:
    at = _as("customer")
    at.switch_page("pages/customer_chat.py").run()
    at.chat_input[0].set_value("Can a person help me with a damaged stove?").run()
    customer = at.selectbox(key="chat_user_id").value

    _switch(at, "agent", "pages/agent_view.py")
    picker = next(s for s in at.selectbox if s.label == "Open a conversation")
    picker.set_value(at.session_state["agent_picker_ids"][0]).run()
    at.text_area(key="agent_draft").set_value("Hi, I'm Sam. I'll send a replacement today.").run()
    next(b for b in at.button if b.label == "Send as agent").click().run()
    assert not at.exception, at.exception

    _switch(at, "customer", "pages/customer_chat.py")
    assert at.selectbox(key="chat_user_id").value == customer
    texts = [m.value for message in at.chat_message for m in message.markdown]
    assert "Hi, I'm Sam. I'll send a replacement today." in texts
    assert any(c.value == "Support agent" for c in at.caption)


def test_ai_draft_fills_the_reply_box(seeded_env: Path) -> None:
    at = _as("customer")
    at.switch_page("pages/customer_chat.py").run()
    at.chat_input[0].set_value("Where is my order? It is late and I am upset").run()
    _switch(at, "agent", "pages/agent_view.py")
    picker = next(s for s in at.selectbox if s.label == "Open a conversation")
    picker.set_value(at.session_state["agent_picker_ids"][0]).run()

    next(b for b in at.button if b.label == "Draft a reply").click().run()

    assert not at.exception, at.exception
    assert at.text_area(key="agent_draft").value.strip()
    assert any("Intent" in m.value for m in at.markdown)


def test_customers_do_not_see_the_agent_view(seeded_env: Path) -> None:
    at = _as("customer")

    at.switch_page("pages/agent_view.py").run()

    assert not any("Agent view" in t.value for t in at.title)
    assert at.info and "for support staff" in at.info[0].value


def _open_first(at: AppTest) -> None:
    picker = next(s for s in at.selectbox if s.label == "Open a conversation")
    picker.set_value(at.session_state["agent_picker_ids"][0]).run()
    assert not at.exception, at.exception


def _click(at: AppTest, label: str) -> None:
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, at.exception


def _open_ticket(at: AppTest, title: str, priority: str) -> None:
    at.text_input(key="agent_ticket_title").set_value(title)
    at.selectbox(key="agent_ticket_priority").set_value(TicketPriority(priority))
    next(b for b in at.button if b.label == "Open ticket").click().run()
    assert not at.exception, at.exception


def _transcript(at: AppTest) -> list[str]:
    return [m.value for message in at.chat_message for m in message.markdown]


def _status_caption(at: AppTest) -> str:
    return next(c.value for c in at.caption if c.value.startswith("Status "))


def test_a_ticket_on_a_claimed_conversation_keeps_it_claimed_and_the_assistant_quiet(
    seeded_env: Path,
) -> None:
    at = _as("customer")
    at.switch_page("pages/customer_chat.py").run()
    at.chat_input[0].set_value("My stove arrived dented").run()
    _switch(at, "agent", "pages/agent_view.py")
    _open_first(at)
    _click(at, "Claim")

    _open_ticket(at, "Replace the dented stove", "high")

    assert _status_caption(at).startswith("Status **claimed**")
    assert any(m.value.startswith("🎫 **Tickets** · #") for m in at.markdown)
    _switch(at, "customer", "pages/customer_chat.py")
    at.chat_input[0].set_value("Hello? Is anyone there?").run()
    replies = [m for m in at.chat_message if m.name == "assistant"]
    assert len(replies) == 1  # the answer to the first message; the agent has the second
    assert "A support agent is handling this conversation." in [s.value for s in at.success]


def test_resolve_is_disabled_once_resolved_and_the_caption_follows(seeded_env: Path) -> None:
    at = _as("customer")
    at.switch_page("pages/customer_chat.py").run()
    at.chat_input[0].set_value("Thanks, that is all").run()
    _switch(at, "agent", "pages/agent_view.py")
    _open_first(at)

    _click(at, "Resolve")

    assert _status_caption(at).startswith("Status **resolved**")
    assert next(b for b in at.button if b.label == "Resolve").disabled


def test_each_turn_in_the_transcript_links_to_its_trace(seeded_env: Path) -> None:
    at = _as("customer")
    at.switch_page("pages/customer_chat.py").run()
    at.chat_input[0].set_value("What is your return window?").run()
    at.chat_input[0].set_value("How long does a refund take?").run()
    _switch(at, "agent", "pages/agent_view.py")

    _open_first(at)

    links = [link.proto.query_string for link in at.get("page_link")]
    assert len(links) == 2 and len(set(links)) == 2
    assert all(link.startswith("trace=") and len(link) == len("trace=") + 32 for link in links)


def test_the_agent_sees_the_ticket_the_customer_opened_with_talk_to_a_human(
    seeded_env: Path,
) -> None:
    at = _as("customer")
    at.switch_page("pages/customer_chat.py").run()
    at.chat_input[0].set_value("My tent pole snapped on the first night").run()
    next(b for b in at.button if b.label == "Talk to a human").click().run()
    _switch(at, "agent", "pages/agent_view.py")

    _open_first(at)

    tickets = [m.value for m in at.markdown if m.value.startswith("🎫 **Tickets** · #")]
    assert tickets and "(open, " in tickets[0]


def test_switching_the_queue_filter_keeps_the_open_conversation_open(seeded_env: Path) -> None:
    at = _as("customer")
    at.switch_page("pages/customer_chat.py").run()
    at.chat_input[0].set_value("The zip on my jacket broke").run()
    _switch(at, "agent", "pages/agent_view.py")
    _open_first(at)
    title = at.subheader[0].value

    for which in ("negative feedback", "PII redacted", "all"):
        at.segmented_control(key="agent_filter").set_value(which).run()

        assert not at.exception, at.exception
        assert not at.error, [e.value for e in at.error]
        assert at.subheader[0].value == title
    picker = next(s for s in at.selectbox if s.label == "Open a conversation")
    assert picker.value == at.session_state["agent_open"]


def test_the_agents_reply_shows_in_the_transcript_of_the_same_run(seeded_env: Path) -> None:
    at = _as("customer")
    at.switch_page("pages/customer_chat.py").run()
    at.chat_input[0].set_value("My stove arrived dented").run()
    _switch(at, "agent", "pages/agent_view.py")
    _open_first(at)

    at.text_area(key="agent_draft").set_value("A new stove ships today.").run()
    next(b for b in at.button if b.label == "Send as agent").click().run()

    assert "A new stove ships today." in _transcript(at)
    assert at.text_area(key="agent_draft").value == ""


def test_create_ticket_asks_for_a_title_and_priority(seeded_env: Path) -> None:
    at = _as("customer")
    at.switch_page("pages/customer_chat.py").run()
    at.chat_input[0].set_value("My stove arrived dented").run()
    _switch(at, "agent", "pages/agent_view.py")
    _open_first(at)

    _open_ticket(at, "  ", "normal")
    assert at.error and "title" in at.error[0].value
    assert not any(m.value.startswith("🎫 **Tickets**") for m in at.markdown)

    _open_ticket(at, "Replace the dented stove", "urgent")
    tickets = [m.value for m in at.markdown if m.value.startswith("🎫 **Tickets** · #")]
    assert tickets and "Replace the dented stove (open, urgent)" in tickets[0]
    assert any("opened (urgent priority)" in s.value for s in at.success)


def test_resolve_closes_the_tickets_and_tells_the_customer(seeded_env: Path) -> None:
    at = _as("customer")
    at.switch_page("pages/customer_chat.py").run()
    at.chat_input[0].set_value("My tent pole snapped on the first night").run()
    next(b for b in at.button if b.label == "Talk to a human").click().run()
    _switch(at, "agent", "pages/agent_view.py")
    _open_first(at)

    _click(at, "Resolve")

    tickets = [m.value for m in at.markdown if m.value.startswith("🎫 **Tickets** · #")]
    assert tickets and "(resolved, " in tickets[0] and "(open, " not in tickets[0]
    assert any(s.value.startswith("Resolved and closed #") for s in at.success)
    _switch(at, "customer", "pages/customer_chat.py")
    notices = [text for text in _transcript(at) if "marked this conversation as resolved" in text]
    assert len(notices) == 1 and "closed ticket #" in notices[0]
