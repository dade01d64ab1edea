"""Demo controls on the Admin page: arm a fault on cue, see it armed with what is left, clear it."""

from __future__ import annotations

import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.db.models import Role
from core.faults import FaultKind
from pages._shared.resources import get_services
from tests.pages.conftest import APP

APP_TIMEOUT_S = 180


def _admin_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT_S).run()
    assert not at.exception, at.exception
    at.session_state["role"] = Role.ADMIN
    at.run()
    at.switch_page("pages/admin.py").run()
    assert not at.exception, at.exception
    return at


def _texts(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown]


def test_arm_a_rate_limit_for_two_calls_see_it_count_down_and_clear_it(app_env: Path) -> None:
    at = _admin_page()
    assert "No fault is armed: every call goes through as usual." in [i.value for i in at.info]

    at.selectbox(key="admin_demo_provider").set_value("openai").run()
    models = at.selectbox(key="admin_demo_model").options
    assert "gpt-4o-mini" in models and "claude-haiku-4-5" not in models
    at.selectbox(key="admin_demo_model").set_value("gpt-4o-mini")
    at.number_input(key="admin_demo_retry").set_value(4.0)
    at.number_input(key="admin_demo_calls").set_value(2)
    at.button(key="admin_demo_arm").click().run()

    assert not at.exception, at.exception
    assert [s.value for s in at.success] == [
        "Armed rate_limit · openai/gpt-4o-mini · next 2 calls (retry after 4 s)."
    ]
    assert "Rate limit (429 with retry-after)" in _texts(at)
    assert "2 calls left" in _texts(at)
    (armed,) = get_services().faults.pending()
    assert (armed.fault.kind, armed.fault.provider, armed.fault.times) == (
        FaultKind.RATE_LIMIT,
        "openai",
        2,
    )

    get_services().faults.draw("openai", frozenset({"gpt-4o-mini"}))
    at.run()
    assert "1 call left" in _texts(at) and "fired 1×" in _texts(at)

    at.button(key=f"admin_demo_clear_{armed.id}").click().run()
    assert [s.value for s in at.success] == [
        "Cleared rate_limit · openai/gpt-4o-mini · next 2 calls."
    ]
    assert "No fault is armed: every call goes through as usual." in [i.value for i in at.info]
    assert get_services().faults.pending() == []


def test_faults_for_minutes_and_clear_all(app_env: Path) -> None:
    at = _admin_page()
    at.selectbox(key="admin_demo_provider").set_value("anthropic")
    at.selectbox(key="admin_demo_kind").set_value(FaultKind.SERVER_ERROR).run()
    at.number_input(key="admin_demo_status").set_value(529)
    at.radio(key="admin_demo_for").set_value("M minutes").run()
    at.number_input(key="admin_demo_minutes").set_value(10.0)
    at.button(key="admin_demo_arm").click().run()
    at.selectbox(key="admin_demo_kind").set_value(FaultKind.STREAM_CUT).run()
    at.button(key="admin_demo_arm").click().run()

    assert not at.exception, at.exception
    assert [s.value for s in at.success] == [
        "Armed stream_cut · anthropic/any model · every call for 10 min."
    ]
    assert "Server error (5xx)" in _texts(at) and "HTTP 529" in _texts(at)
    assert "Stream cut midway" in _texts(at)
    assert any(re.fullmatch(r"(10 min|9 min \d+ s) left", text) for text in _texts(at))
    assert len(get_services().faults.pending()) == 2

    at.button(key="admin_demo_clear_all").click().run()
    assert at.success[0].value.startswith("Cleared 2 faults: server_error · anthropic/any model")
    assert get_services().faults.pending() == []


def test_bad_input_gets_one_sentence_and_arms_nothing(app_env: Path) -> None:
    at = _admin_page()
    at.number_input(key="admin_demo_calls").set_value(0)
    at.button(key="admin_demo_arm").click().run()

    assert not at.exception, at.exception
    assert [e.value for e in at.error] == [
        "The number of calls must be a whole number from 1 to 1,000."
    ]
    assert get_services().faults.pending() == []
