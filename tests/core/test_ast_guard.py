"""``ast.parse`` runs one at a time once the chat's worker threads may parse beside the page."""

from __future__ import annotations

import ast
import threading

from core.ast_guard import PARSE_LOCK, serialise_ast_parse


def test_a_parse_waits_while_another_thread_is_parsing() -> None:
    serialise_ast_parse()
    parsed = threading.Event()

    def parse() -> None:
        ast.parse("x = 1")
        parsed.set()

    with PARSE_LOCK:  # as if another thread were inside ast.parse
        worker = threading.Thread(target=parse)
        worker.start()
        assert not parsed.wait(0.3)
    assert parsed.wait(10)
    worker.join()
    assert isinstance(ast.parse("x = 1"), ast.Module)
