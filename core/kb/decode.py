"""Bytes of a text file to ``str``, or one sentence saying why not; never garbled text.

In order: a byte-order mark (UTF-8, UTF-16, UTF-32) names the encoding; else strict UTF-8; else
``charset-normalizer`` detects a legacy encoding (Windows-1252, Shift-JIS, GB18030, Windows-1251,
BOM-less UTF-16…) and the result carries a note naming it, since a detection can be wrong.
Control characters in the decoded text mean the file is binary, whatever it was called.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes

from core.errors import DocumentRejected

_BOMS = (  # UTF-32-LE's mark begins with UTF-16-LE's, so it is tried first
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0e-\x1f\x7f]")
_PREFERRED = ("cp1252", "shift_jis")
"""Named instead of a sibling encoding that decodes the bytes to the same text."""
_LATIN_SIBLINGS = frozenset(
    {"cp1250", "cp1254", "cp1257", "cp1258", "iso8859_2", "iso8859_3", "iso8859_4",
     "iso8859_9", "iso8859_10", "iso8859_13", "iso8859_14", "iso8859_15", "iso8859_16",
     "latin_1", "mac_latin2", "mac_roman", "cp850", "cp852"}
)  # fmt: skip
"""Code pages charset-normalizer may pick for Windows-1252 text (Latin script, one byte)."""
_TYPOGRAPHY = frozenset(
    "\u00a0\u00ab\u00bb\u00b0\u00a9\u00ae\u00a3\u00a7\u20ac"
    "\u2013\u2014\u2018\u2019\u201a\u201c\u201d\u201e\u2022\u2026\u2122"
)
"""Non-letters that Western text holds anyway: no-break space, quotes, dashes, €, ©…"""
_LABELS = {
    "cp1252": "Windows-1252 (Western European)",
    "cp1250": "Windows-1250 (Central European)",
    "cp1251": "Windows-1251 (Cyrillic)",
    "shift_jis": "Shift-JIS (Japanese)",
    "cp932": "Shift-JIS (Japanese)",
    "gb18030": "GB18030 (Chinese)",
    "big5": "Big5 (Traditional Chinese)",
    "utf_16_le": "UTF-16 little-endian",
    "utf_16_be": "UTF-16 big-endian",
}


@dataclass(frozen=True)
class Decoded:
    text: str
    note: str | None = None
    """Set when the encoding was detected rather than declared, naming it."""


def decode_text(filename: str, data: bytes) -> Decoded:
    """The text of ``data``; raises ``DocumentRejected`` for binary or unrecognisable bytes."""
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            marked = _strict(data, codec)
            if marked is None:
                raise DocumentRejected(
                    f"{filename} starts with a {label} byte-order mark but is not valid {label}; "
                    "save it as UTF-8 and re-upload."
                )
            return Decoded(_checked(filename, marked))
    plain = _strict(data, "utf-8") if b"\x00" not in data else None
    if plain is not None:
        return Decoded(_checked(filename, plain))
    encoding = _detect(filename, data)
    detected = _strict(data, encoding)
    if detected is None:
        raise _unrecognised(filename)
    text = _checked(filename, detected)
    if encoding.startswith(("utf_16", "utf_32")) and not any(c.isspace() for c in text):
        # Without a mark, binary bytes pass for UTF-16; text has a space or line break somewhere.
        raise _binary(filename)
    label = _LABELS.get(encoding, encoding)
    return Decoded(text, f"{filename} is not UTF-8; it was read as {label}.")


def _detect(filename: str, data: bytes) -> str:
    best = from_bytes(data).best()
    if best is None:
        raise _binary(filename) if _CONTROL_BYTES.search(data) else _unrecognised(filename)
    same_text = best.could_be_from_charset
    encoding = next((name for name in _PREFERRED if name in same_text), best.encoding)
    return "cp1252" if _rather_western(data, encoding) else encoding


def _rather_western(data: bytes, detected: str) -> bool:
    """True when ``detected`` is another Latin code page and the bytes read as Windows-1252
    with no more stray symbols inside words: short Western text ("café crème brûlée") is
    often detected as Windows-1250, while Central European text read as Windows-1252 shows
    symbols amid letters ("za¿ó³æ")."""
    if detected not in _LATIN_SIBLINGS:
        return False
    western = _strict(data, "cp1252")
    other = _strict(data, detected)
    if western is None or other is None:
        return False
    return _stray_symbols(western) <= _stray_symbols(other)


def _stray_symbols(text: str) -> int:
    return sum(
        1 for char in text if ord(char) > 0x7F and not char.isalpha() and char not in _TYPOGRAPHY
    )


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        return None


def _checked(filename: str, text: str) -> str:
    if _CONTROL.search(text):
        raise _binary(filename)
    return text


def _unrecognised(filename: str) -> DocumentRejected:
    return DocumentRejected(
        f"{filename} is not UTF-8 and its encoding could not be recognised; "
        "save it as UTF-8 and re-upload."
    )


def _binary(filename: str) -> DocumentRejected:
    return DocumentRejected(
        f"{filename} looks like a binary file, not text; upload Markdown, text or PDF."
    )
