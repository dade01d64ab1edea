from pathlib import Path

from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from core.db import create_db_engine
from core.db.models import Conversation, Feedback, Role
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
