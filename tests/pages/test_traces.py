import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.db.models import Role
from tests.pages.conftest import APP

APP_TIMEOUT_S = 180


def test_a_chat_turn_appears_as_a_priced_trace_with_its_waterfall(app_env: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT_S).run()
    at.switch_page("pages/customer_chat.py").run()
    at.chat_input[0].set_value("What is your return window?").run()
    assert not at.exception, at.exception

    at.session_state["role"] = Role.AGENT
    at.switch_page("pages/traces.py").run()

    assert not at.exception, at.exception
    table = at.dataframe[0].value
    turns = table[table["root_name"] == "turn · What is your return window?"]
    assert len(turns) == 1
    assert turns["model"].iloc[0].startswith("gpt-4o-mini")
    assert turns["cost"].iloc[0].startswith("$0.0")
    trace_id = turns["trace_id"].iloc[0]

    at.query_params["trace"] = trace_id
    at.run()

    assert any(s.value == f"Trace {trace_id}" for s in at.subheader)
    chart = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    assert chart["mark"]["type"] == "bar"
    names = [e.label.strip().split(" · ")[0] for e in at.expander]
    assert "turn" in names and any(n.startswith("chat ") for n in names)
    assert any(n.startswith("retrieval") for n in names)


def test_an_unknown_trace_says_so(app_env: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT_S).run()
    at.query_params["trace"] = "0" * 32
    at.session_state["role"] = Role.AGENT
    at.run()
    at.switch_page("pages/traces.py").run()

    assert not at.exception, at.exception
    assert at.warning and "There is no trace" in at.warning[0].value


def test_a_trace_without_cost_says_so_instead_of_nan(app_env: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT_S).run()
    at.switch_page("pages/customer_chat.py").run()
    at.chat_input[0].set_value("What is your return window?").run()

    at.session_state["role"] = Role.AGENT
    at.switch_page("pages/traces.py").run()

    table = at.dataframe[0].value
    assert not table["cost"].str.contains("nan").any()
    turns = table["root_name"].str.startswith("turn · ")
    assert (table[~turns]["cost"] == "—").all()
    turn = str(table[turns]["trace_id"].iloc[0])
    at.query_params["trace"] = turn
    at.run()
    assert "Chat model: gpt-4o-mini" in " ".join(c.value for c in at.caption)


def test_customers_cannot_open_the_traces(app_env: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT_S).run()

    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/traces.py")
    at.session_state["role"] = Role.AGENT
    at.run()
    at.switch_page("pages/traces.py").run()
    assert [t.value for t in at.title] == ["🔎 Traces"]


def _agent_on(at: AppTest, page: str) -> None:
    at.session_state["role"] = Role.AGENT
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception


def test_traces_open_on_a_seeded_store_before_any_chat(seeded_env: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT_S).run()

    _agent_on(at, "pages/traces.py")

    assert not at.error, [e.value for e in at.error]
    assert at.info and at.info[0].value.startswith("No traces in this window yet")


def test_the_list_names_turns_by_the_customers_words_and_shows_the_chat_model(
    seeded_env: Path,
) -> None:
    at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT_S).run()
    at.switch_page("pages/customer_chat.py").run()
    start = "Can you tell me how long I have to send back a pair of"
    at.chat_input[0].set_value(f"{start} hiking boots that do not fit?").run()

    _agent_on(at, "pages/traces.py")

    table = at.dataframe[0].value
    turn = table[table["root_name"].str.startswith("turn · ")]
    assert turn["root_name"].tolist() == [f"turn · {start}…"]
    assert turn["model"].str.startswith("gpt-4o-mini").tolist() == [True]


def test_knowledge_base_searches_are_hidden_until_the_toggle_shows_them(
    seeded_env: Path,
) -> None:
    at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT_S).run()
    _agent_on(at, "pages/knowledge_base.py")
    at.text_input(key="kb_query").set_value("How long do refunds take?").run()

    at.switch_page("pages/traces.py").run()

    assert at.info and at.info[0].value.startswith("No traces in this window yet")
    at.toggle[0].set_value(True).run()
    roots = at.dataframe[0].value["root_name"].tolist()
    assert roots and all(root.startswith("retrieval ") for root in roots)


def test_a_text_search_without_matches_says_what_it_covers(seeded_env: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT_S).run()
    at.switch_page("pages/customer_chat.py").run()
    at.chat_input[0].set_value("What is your return window?").run()
    _agent_on(at, "pages/traces.py")

    at.text_input[0].set_value("ORD-99999").run()

    assert at.info, "no message for an empty search"
    message = at.info[0].value.replace("\\", "")
    assert "ORD-99999" in message and "Text search covers span names and attributes" in message
    assert "ask something" not in message


def test_a_link_with_a_time_range_lists_only_that_range(seeded_env: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT_S).run()
    at.switch_page("pages/customer_chat.py").run()
    at.chat_input[0].set_value("What is your return window?").run()
    _agent_on(at, "pages/traces.py")
    assert not at.dataframe[0].value.empty

    at.query_params["start"] = "2020-01-01T10:00:00+00:00"
    at.query_params["end"] = "2020-01-01T10:12:00+00:00"
    at.run()

    assert at.selectbox[0].value == "Linked range"
    assert any("01 Jan 10:00 to 01 Jan 10:12 UTC" in c.value for c in at.caption)
    assert at.info and at.info[0].value.startswith("No traces in this window yet")


def test_a_link_with_an_unreadable_time_range_says_so(seeded_env: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT_S)
    at.query_params["start"] = "yesterday"
    at.query_params["end"] = "today"
    at.run()
    _agent_on(at, "pages/traces.py")

    assert not at.exception, at.exception
    assert any("does not read as two dates" in w.value for w in at.warning)
    assert at.selectbox[0].value == "Last 24 hours"
