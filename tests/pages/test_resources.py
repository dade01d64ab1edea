import ast
from pathlib import Path

PAGES = Path(__file__).resolve().parents[2] / "pages"


def _cached_functions(path: Path) -> list[str]:
    """Functions in ``path`` decorated with ``st.cache_resource`` (with or without arguments)."""
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            if isinstance(target, ast.Attribute) and target.attr == "cache_resource":
                names.append(node.name)
    return names


def test_every_cached_resource_lives_in_the_resources_module() -> None:
    elsewhere = {
        str(path.relative_to(PAGES)): names
        for path in PAGES.rglob("*.py")
        if path.name != "resources.py" and (names := _cached_functions(path))
    }

    assert elsewhere == {}
    assert "get_start_state" in _cached_functions(PAGES / "_shared" / "resources.py")
