"""One ``ast.parse`` at a time in this process.

CPython 3.11 keeps the AST constructor's recursion depth in interpreter-wide state, so two
threads turning source into ``ast`` objects at once can fail with ``SystemError: AST constructor
recursion depth mismatch`` (python/cpython#106905 and the reports linked there). Streamlit parses
every page script this way (magic), and pydantic does for each builtin ``default_factory`` it
inspects — which SQLModel rows do on every insert. With the chat's turns answered on a worker
thread beside the page's own thread, both happen at once; ``serialise_ast_parse`` makes them
take turns.
"""

from __future__ import annotations

import ast
import threading
from functools import wraps
from typing import Any

PARSE_LOCK = threading.RLock()
_original = ast.parse


@wraps(_original)
def _parse_one_at_a_time(*args: Any, **kwargs: Any) -> Any:
    with PARSE_LOCK:
        return _original(*args, **kwargs)


def serialise_ast_parse() -> None:
    """Make every later ``ast.parse`` in the process wait for the one running (idempotent)."""
    ast.parse = _parse_one_at_a_time
