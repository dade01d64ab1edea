"""Every page, for every role that may open it, on a freshly seeded store with no span yet:
no exception, no error box, and no stray text (a bare string in a page script, which
Streamlit's "magic" would render)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pages._shared.navigation import PAGES
from tests.pages.conftest import APP

APP_TIMEOUT_S = 180
ROOT = Path(APP).parent
ROLES = ("customer", "agent", "admin")


def bare_strings(path: Path) -> list[str]:
    """Every string that stands alone as a statement in ``path`` (docstrings included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        " ".join(node.value.value.split())
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    ]


def shown_text(at: AppTest) -> list[str]:
    kinds = ("markdown", "caption", "text", "info", "warning", "success", "error")
    return [" ".join(str(element.value).split()) for kind in kinds for element in at.get(kind)]


@pytest.mark.parametrize("role", ROLES)
def test_every_page_of_the_role_renders_without_errors_or_stray_text(
    seeded_env: Path, role: str
) -> None:
    at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT_S)
    at.session_state["role"] = role
    at.run()
    for page in [entry.path for entry in PAGES if role in entry.roles]:
        at.switch_page(page).run()

        assert not at.exception, (page, [e.value for e in at.exception])
        assert not at.error, (page, [e.value for e in at.error])
        assert at.title, f"{page} drew nothing"
        shown = shown_text(at)
        scripts = bare_strings(ROOT / "ui.py") + bare_strings(ROOT / page)
        strays = [s for s in scripts if any(s[:60] in text for text in shown)]
        assert not strays, (page, strays)


def test_bare_strings_finds_a_docstring(tmp_path: Path) -> None:
    page = tmp_path / "page.py"
    page.write_text('"""A page."""\nimport streamlit as st\nX = 1\n"""About X."""\n')

    assert bare_strings(page) == ["A page.", "About X."]
