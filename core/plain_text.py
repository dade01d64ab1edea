"""Text as every store can hold it: what a person typed or a file named, made storable.

PostgreSQL refuses NUL characters that SQLite keeps, and no encoder takes a lone surrogate
(half of a UTF-16 pair, which a browser or a clipboard can hand over); both would otherwise
fail deep inside a turn or an ingest. ``storable`` makes the text the same on every backend.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""C0 controls but tab, line feed and carriage return, and DEL: never part of typed text."""
_SURROGATE = re.compile("[\ud800-\udfff]")


def storable(text: str) -> str:
    """``text`` without control characters (tab and line breaks kept), each surrogate pair
    joined into its character and each lone surrogate replaced by U+FFFD."""
    cleaned = _CONTROL.sub("", text)
    return cleaned.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def one_line(text: str) -> str:
    """``storable`` on one line, for a name: line breaks and tabs become single spaces."""
    return " ".join(storable(text).split())


def storable_in_place(text: str) -> str:
    """``storable`` that keeps every character's position (for text with offsets into it,
    such as a page and its headings): control characters become spaces and each surrogate
    U+FFFD."""
    return _SURROGATE.sub("\ufffd", _CONTROL.sub(" ", text))
