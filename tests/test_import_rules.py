"""The layering STYLE.md and the README promise, checked on the source: ``core/`` and
``observability/`` never import Streamlit, and ``observability/`` never imports ``core``."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imported_packages(source: str) -> set[str]:
    """The top-level packages a module's ``import`` statements name (relative ones excluded)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".", 1)[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".", 1)[0])
    return found


def test_imported_packages_sees_every_form_of_import() -> None:
    source = (
        "import streamlit as st\n"
        "from core.settings import Settings\n"
        "def f():\n    import redis.client\n"
        "from . import sibling\n"
    )

    assert imported_packages(source) == {"streamlit", "core", "redis"}


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [("core", "streamlit"), ("observability", "streamlit"), ("observability", "core")],
)
def test_package_never_imports(package: str, forbidden: str) -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / package).rglob("*.py"))
        if forbidden in imported_packages(path.read_text(encoding="utf-8"))
    ]

    assert offenders == []
