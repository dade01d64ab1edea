"""Our exception tree. Foreign exceptions are mapped to these once, at the boundary.

    ObservatoryError                 any error a page may show; ``str(exc)`` is a sentence to show
    ├── SettingsError                a setting is malformed or names something unreachable
    ├── NotAllowed                   the person acting may not read or change this (core.ownership)
    ├── StorageError                 the app database failed or went away
    │   └── DatabaseAway             it is unreachable and the message was not stored yet (held)
    ├── CacheError                   Redis failed; callers fall back to the in-process cache
    ├── KnowledgeBaseError           ingest or search failed
    │   └── DocumentRejected         a file we will not index (corrupt, encrypted, empty, too big…)
    ├── ProviderError                an LLM provider call failed (see core.providers.errors)
    └── EngineError                  a conversation turn could not be completed

Pages catch ``ObservatoryError`` and show ``str(exc)``; anything else is a bug and is logged.
"""

from __future__ import annotations


class ObservatoryError(Exception):
    """Base of every error whose message is written for the person using the app."""


class SettingsError(ObservatoryError):
    """A setting is malformed or points at something that does not answer."""


class NotAllowed(ObservatoryError):
    """The person acting may not read or change what they asked for (another customer's
    conversation, a conversation another agent has)."""


class StorageError(ObservatoryError):
    """The app database could not be reached or refused an operation."""


class DatabaseAway(StorageError):
    """The app database cannot be reached and nothing of the turn was stored: the message is
    held and sent again once it is back (see ``core.db.held``)."""


class CacheError(ObservatoryError):
    """The cache server could not be reached."""


class KnowledgeBaseError(ObservatoryError):
    """The knowledge base could not ingest or search."""


class DocumentRejected(KnowledgeBaseError):
    """A file the knowledge base will not index; the message says why and what to do."""


class ProviderError(ObservatoryError):
    """An LLM provider call failed."""


class EngineError(ObservatoryError):
    """A conversation turn could not be completed."""
