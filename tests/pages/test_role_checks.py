"""Every page checks the role when it renders: a page's address opened by someone whose role
may not see it says so in one sentence and shows nothing of the page, signed in (hosted) or
in the demo. The address is kept by opening the page as an admin, then becoming the other
role in the same session, as a link shared from an admin to a customer would."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pages._shared.navigation import AGENT, CUSTOMER, PAGES, PageEntry
from tests.pages.conftest import APP
from tests.pages.test_sign_in import ADMIN, hosted, sign_in_as
from tests.pages.test_sign_in import AGENT as AGENT_PERSON
from tests.pages.test_sign_in import CUSTOMER as CUSTOMER_PERSON

APP_TIMEOUT_S = 180
PEOPLE = {CUSTOMER: CUSTOMER_PERSON, AGENT: AGENT_PERSON}
ARTICLE = {CUSTOMER: "a customer", AGENT: "a support agent"}


def refused(role: str) -> list[PageEntry]:
    return [entry for entry in PAGES if role not in entry.roles]


def page_title_shown(at: AppTest, entry: PageEntry) -> bool:
    return any(entry.title.lower() in t.value.lower() for t in at.title)


@pytest.mark.parametrize("entry", PAGES, ids=[e.title for e in PAGES])
def test_every_page_checks_the_role_before_anything_else(entry: PageEntry) -> None:
    tree = ast.parse((Path(APP).parent / entry.path).read_text(encoding="utf-8"))
    statements = [
        node
        for node in tree.body
        if not isinstance(node, ast.Import | ast.ImportFrom)
        and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
    ]

    assert ast.unparse(statements[0]) == "check_page_role(__file__)"


def test_the_pages_each_role_may_not_see() -> None:
    assert [e.title for e in refused(CUSTOMER)] == [
        "Scenarios", "Agent view", "Knowledge base", "Traces", "Analytics", "Admin",
    ]  # fmt: skip
    assert [e.title for e in refused(AGENT)] == ["Customer chat", "Admin"]


@pytest.mark.parametrize("role", [CUSTOMER, AGENT])
def test_signed_in_a_page_outside_the_role_says_so_and_shows_nothing(
    seeded_env: Path, role: str
) -> None:
    person = PEOPLE[role]
    at = hosted(ADMIN.email, ADMIN.name)
    for entry in refused(role):
        sign_in_as(at, ADMIN.email, ADMIN.name)
        at.run().switch_page(entry.path).run()
        assert page_title_shown(at, entry), entry.path

        sign_in_as(at, person.email, person.name)
        at.run()

        assert not at.exception, (entry.path, at.exception)
        assert not page_title_shown(at, entry), entry.path
        assert [i.value for i in at.info] == [
            f"This link opens a page, which is for {_who(entry)}; you are signed in as "
            f"{ARTICLE[role]}."
        ]
        assert not at.dataframe and not at.chat_input and not at.text_input, entry.path


@pytest.mark.parametrize("role", [CUSTOMER, AGENT])
def test_in_the_demo_a_page_outside_the_role_says_which_role_opens_it(
    seeded_env: Path, role: str
) -> None:
    at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT_S)
    for entry in refused(role):
        at.session_state["role"] = "admin"
        at.run().switch_page(entry.path).run()
        assert page_title_shown(at, entry), entry.path

        at.session_state["role"] = role
        at.run()

        assert not at.exception, (entry.path, at.exception)
        assert not page_title_shown(at, entry), entry.path
        info = [i.value for i in at.info]
        assert len(info) == 1 and info[0].startswith(
            f"This link opens a page, which is for {_who(entry)}: switch the sidebar to"
        ), info


def test_the_demo_says_anyone_can_switch_roles(seeded_env: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT_S).run()

    assert not at.exception, at.exception
    assert "demo mode: anyone can switch roles" in [c.value for c in at.sidebar.caption]
    assert at.radio(key="role_picker").options == ["Customer", "Support agent", "Admin"]
    assert not [b for b in at.sidebar.button if b.label == "Sign out"]


def _who(entry: PageEntry) -> str:
    return {
        "Customer chat": "customers and admins",
        "Admin": "admins",
    }.get(entry.title, "support staff")
