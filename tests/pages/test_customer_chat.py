from pathlib import Path
from typing import Any

from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from core.conversation import TextDelta, TurnRequest
from core.db import create_db_engine
from core.db.models import Conversation, Feedback, Message, MessageRole, Order, Role, Ticket
from core.simulator import Fault, FaultKind
from pages._shared.resources import get_services
from tests.pages.conftest import APP

APP_TIMEOUT_S = 180
CHAT = "pages/customer_chat.py"


def _chat(data_dir: Path) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT_S).run()
    assert not at.exception, at.exception
    at.switch_page(CHAT).run()
    assert not at.exception, at.exception
    return at


def _send(at: AppTest, text: str) -> AppTest:
    at.chat_input[0].set_value(text).run()
    assert not at.exception, at.exception
    return at


def _assistant_texts(at: AppTest) -> list[str]:
    return [
        " ".join(m.value for m in message.markdown)
        for message in at.chat_message
        if message.name == "assistant"
    ]


def test_answer_is_cited_and_shows_its_cost(app_env: Path) -> None:
    at = _send(_chat(app_env), "What is your return window?")

    answers = _assistant_texts(at)
    assert answers and "30 days" in answers[-1]
    captions = [c.value for c in at.caption]
    assert any("(simulated)" in c and "tokens" in c and "$0.0" in c for c in captions)
    assert any(e.label.startswith("Sources") for e in at.expander)
    assert any("Northwind" in m.value or "return" in m.value.lower() for m in at.markdown)


def _rows(data_dir: Path, model: Any) -> list[Any]:
    engine = create_db_engine(f"sqlite:///{data_dir / 'app.db'}")
    with Session(engine) as session:
        rows = list(session.exec(select(model)).all())
    engine.dispose()
    return rows


def _trace_links(at: AppTest) -> list[str]:
    return [link.proto.query_string for link in at.get("page_link")]


def _user_texts(at: AppTest) -> list[str]:
    return [m.text[0].value for m in at.chat_message if m.name == "user"]


def test_an_admin_sees_each_answers_trace_link_and_a_customer_does_not(app_env: Path) -> None:
    at = _send(_chat(app_env), "What is your return window?")

    assert _trace_links(at) == []

    at.session_state["role"] = Role.ADMIN
    at.run()

    answer = next(m for m in _rows(app_env, Message) if m.role is MessageRole.ASSISTANT)
    assert answer.trace_id
    assert _trace_links(at) == [f"trace={answer.trace_id}"]
    assert at.get("page_link")[0].proto.page == "traces"


def test_new_conversation_starts_one_after_a_past_one_was_reopened(app_env: Path) -> None:
    at = _send(_chat(app_env), "What is your return window?")
    first = at.session_state["chat_conversation_id"]
    next(b for b in at.button if b.label == "New conversation").click().run()
    _send(at, "Do you price match?")
    at.radio(key="chat_past").set_value(first).run()
    assert _user_texts(at) == ["What is your return window?"]

    next(b for b in at.button if b.label == "New conversation").click().run()

    assert not at.chat_message
    _send(at, "Can I change my delivery address?")
    assert _user_texts(at) == ["Can I change my delivery address?"]
    assert len(_rows(app_env, Conversation)) == 3


def test_an_over_long_message_gets_one_sentence_with_the_limit_and_stays_in_the_box(
    app_env: Path,
) -> None:
    at = _send(_chat(app_env), "x" * 8_001)

    assert not at.chat_message
    assert [e.value for e in at.error] == [
        "That message is 8,001 characters; a message can be up to 8,000. Shorten it (it is "
        "still in the box) or attach it as a file instead."
    ]
    assert at.chat_input[0].proto.value == "x" * 8_001
    assert _rows(app_env, Message) == []


def test_the_privacy_notice_stays_under_the_message_it_is_about(app_env: Path) -> None:
    at = _send(_chat(app_env), "My email is jane.doe@example.org, when do refunds arrive?")

    at.run()

    asked = next(m for m in at.chat_message if m.name == "user")
    assert asked.text[0].value.startswith("My email is [EMAIL]")
    assert any("removed an email address" in c.value for c in asked.caption)


def test_talk_to_a_human_opens_one_ticket_then_shows_the_status(app_env: Path) -> None:
    at = _send(_chat(app_env), "My tent arrived torn")

    next(b for b in at.button if b.label == "Talk to a human").click().run()
    at.run()

    assert "Talk to a human" not in [b.label for b in at.button]
    assert [s.value for s in at.success] == [
        "An agent has been asked to join; they will reply here."
    ]
    assert len(_rows(app_env, Ticket)) == 1


def test_an_attached_file_is_shown_with_its_indexed_chunks(app_env: Path) -> None:
    at = _chat(app_env)
    prompt = at.chat_input[0].upload("note.txt", b"My locker code is 4417.", "text/plain")

    prompt.set_value("What is my locker code?").run()

    assert not at.exception, at.exception
    asked = next(m for m in at.chat_message if m.name == "user")
    assert [c.value for c in asked.caption] == ["📎 note.txt · 1 chunk indexed"]


def test_an_answer_cut_short_by_a_new_message_says_so(app_env: Path) -> None:
    at = _send(_chat(app_env), "Hello")
    request = TurnRequest(
        user_id=at.session_state["chat_user_id"],
        text="How long does a refund take?",
        conversation_id=at.session_state["chat_conversation_id"],
    )
    events = get_services().engine.stream(request)
    next(e for e in events if isinstance(e, TextDelta))
    events.close()  # what Streamlit does to the running page when the customer sends again

    at.run()

    cut = [m for m in at.chat_message if m.name == "assistant"][-1]
    assert cut.markdown[0].value
    assert "⚠️ Cut short: a new message was sent before this answer finished." in [
        c.value for c in cut.caption
    ]


def test_thumbs_down_is_stored_and_flags_the_conversation(app_env: Path) -> None:
    at = _send(_chat(app_env), "Do you price match?")

    at.feedback[-1].set_value(0).run()

    engine = create_db_engine(f"sqlite:///{app_env / 'app.db'}")
    with Session(engine) as session:
        feedback = session.exec(select(Feedback)).all()
        conversation = session.exec(select(Conversation)).one()
    assert [f.score for f in feedback] == [-1]
    assert conversation.flagged and "negative feedback" in conversation.flag_reasons
    engine.dispose()


def test_a_changed_vote_updates_its_row_and_shows_when_the_conversation_is_reopened(
    app_env: Path,
) -> None:
    at = _send(_chat(app_env), "Do you price match?")
    conversation_id = at.session_state["chat_conversation_id"]

    at.feedback[-1].set_value(1).run()
    at.feedback[-1].set_value(0).run()

    assert [f.score for f in _rows(app_env, Feedback)] == [-1]
    reopened = _chat(app_env)  # a new session, as the same (first) customer
    reopened.radio(key="chat_past").set_value(conversation_id).run()
    assert not reopened.exception, reopened.exception
    assert reopened.feedback[-1].value == 0  # thumbs down, as chosen
    reopened.feedback[-1].set_value(None).run()
    assert _rows(app_env, Feedback) == []


def test_talk_to_a_human_puts_the_conversation_in_the_agent_queue(app_env: Path) -> None:
    at = _send(_chat(app_env), "My tent arrived torn")

    next(b for b in at.button if b.label == "Talk to a human").click().run()

    assert at.success and "agent" in at.success[0].value
    at.session_state["role"] = Role.AGENT
    at.switch_page("pages/agent_view.py").run()
    assert not at.exception, at.exception
    queue = at.dataframe[0].value
    assert "My tent arrived torn" in " ".join(queue["last customer message"].astype(str))
    assert "escalated" in set(queue["status"])


def test_provider_outage_shows_an_apology_not_a_traceback(app_env: Path) -> None:
    at = _chat(app_env)
    get_services().faults.add(Fault(FaultKind.SERVER_ERROR, times=100))

    _send(at, "Where is my refund?")

    assert not at.exception
    assert any("sorry" in text.lower() for text in _assistant_texts(at))
    assert not at.error


def test_the_demo_guide_shows_the_chosen_customers_orders_bookings_and_things_to_try(
    app_env: Path,
) -> None:
    at = _chat(app_env)
    engine = create_db_engine(f"sqlite:///{app_env / 'app.db'}")
    with Session(engine) as session:
        orders = session.exec(select(Order)).all()
    engine.dispose()
    customers = at.selectbox(key="chat_user_id").options
    assert len(customers) >= 2

    for index in (0, 1):
        at.selectbox(key="chat_user_id").select_index(index).run()
        user_id = at.session_state["chat_user_id"]
        guide = next(e for e in at.sidebar.expander if e.label.startswith("Demo guide"))
        text = " ".join(m.value for m in guide.markdown)
        for order in (o for o in orders if o.user_id == user_id):
            assert f"{order.number} ({order.status.value.replace('_', ' ')})" in text
        assert "Things to try" in text and "Bookings:" in text
