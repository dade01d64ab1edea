from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.db.models import Role
from pages._shared.navigation import ADMIN, AGENT, CUSTOMER, can_open, pages_for
from tests.pages.conftest import APP


def _titles(role: Role) -> list[str]:
    return [entry.title for entries in pages_for(role).values() for entry in entries]


def test_customers_see_the_chat_but_not_the_traces_of_every_customer() -> None:
    assert _titles(Role.CUSTOMER) == ["Home", "Customer chat"]
    assert not can_open(Role.CUSTOMER, "pages/traces.py")
    assert not can_open(Role.CUSTOMER, "pages/analytics.py")
    assert can_open(Role.AGENT, "pages/analytics.py") and can_open(Role.ADMIN, "pages/analytics.py")
    assert can_open(Role.AGENT, "pages/traces.py") and can_open(Role.ADMIN, "pages/traces.py")


def test_agents_get_the_desk_and_the_knowledge_base_but_not_admin() -> None:
    assert _titles(Role.AGENT) == [
        *("Home", "Scenarios", "Agent view", "Knowledge base", "Traces", "Analytics")
    ]


def test_admins_see_every_page_in_sections() -> None:
    sections = pages_for(Role.ADMIN)

    assert list(sections) == ["Overview", "Support", "Knowledge", "Observability", "Admin"]
    assert [e.title for e in sections["Support"]] == ["Customer chat", "Agent view"]


def test_the_roles_the_navigation_knows_are_the_apps_roles() -> None:
    assert {CUSTOMER, AGENT, ADMIN} == {role.value for role in Role}


def test_the_role_switch_is_one_option_a_line_and_switches_the_navigation(app_env: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=180).run()
    switch = at.radio(key="role_picker")
    assert not switch.proto.horizontal
    assert switch.options == ["Customer", "Support agent", "Admin"]

    switch.set_value("agent").run()

    assert not at.exception, at.exception
    assert at.session_state["role"] == "agent"
