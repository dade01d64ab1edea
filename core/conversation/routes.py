"""Named routes the pages offer: ordered chains of models, tried until one answers."""

from __future__ import annotations

NAMED_ROUTES: dict[str, list[str]] = {
    "Default: gpt-4o-mini → claude-haiku-4-5 → gpt-4.1-mini": [
        "gpt-4o-mini",
        "claude-haiku-4-5",
        "gpt-4.1-mini",
    ],
    "Premium: gpt-4.1 → claude-sonnet-4-5 → gpt-4o": [
        "gpt-4.1",
        "claude-sonnet-4-5",
        "gpt-4o",
    ],
    "Original design: gpt-4 → claude-3-sonnet → gpt-3.5-turbo": [
        "gpt-4",
        "claude-3-sonnet",
        "gpt-3.5-turbo",
    ],
    "Anthropic first: claude-haiku-4-5 → gpt-4o-mini": ["claude-haiku-4-5", "gpt-4o-mini"],
}
