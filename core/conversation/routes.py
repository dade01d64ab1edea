"""Named routes the pages offer: ordered chains of models, tried until one answers."""

from __future__ import annotations

NAMED_ROUTES: dict[str, list[str]] = {
    "Default: gpt-4o-mini → claude-3-5-haiku → gpt-3.5-turbo": [
        "gpt-4o-mini",
        "claude-3-5-haiku",
        "gpt-3.5-turbo",
    ],
    "Premium: gpt-4o → claude-3-5-sonnet → gpt-4o-mini": [
        "gpt-4o",
        "claude-3-5-sonnet",
        "gpt-4o-mini",
    ],
    "Original design: gpt-4 → claude-3-sonnet → gpt-3.5-turbo": [
        "gpt-4",
        "claude-3-sonnet",
        "gpt-3.5-turbo",
    ],
    "Anthropic first: claude-3-5-haiku → gpt-4o-mini": ["claude-3-5-haiku", "gpt-4o-mini"],
}
