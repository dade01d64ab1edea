"""Browser tests share the end-to-end tests' headless chromium (``tests/e2e/conftest.py``)."""

from tests.e2e.conftest import browser

__all__ = ["browser"]
