"""Deployment tests drive real app processes in the e2e tests' headless chromium."""

from tests.e2e.conftest import browser

__all__ = ["browser"]
