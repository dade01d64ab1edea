"""Other services, in other processes and languages, sending spans to the running app."""

from __future__ import annotations

from tests.api.conftest import served_app  # noqa: F401  (the running app, one per session)
