import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGE_FILES = sorted([ROOT / "ui.py", *(ROOT / "pages").rglob("*.py")])


@pytest.mark.parametrize("path", PAGE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_page_passes_use_container_width(path: Path) -> None:
    """Deprecated in Streamlit 1.67 (``width="stretch"`` replaces it): st.dataframe warns."""
    calls = [
        node.lineno
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and any(k.arg == "use_container_width" for k in node.keywords)
    ]

    assert calls == []
