"""A real ``streamlit run app.py`` on a free port, and Debian's chromium driven by Playwright."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PROJECT_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 300
STEP_TIMEOUT_MS = 120_000
"""How long a click, a page load or an ``expect`` may wait for the page by default: a busy
machine takes long, an idle one returns as soon as the page shows what is awaited."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"streamlit did not answer at {url} within {START_TIMEOUT_S} s")


def offline_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment for an app with no keys and no servers, its data in ``data_dir``."""
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_URL"))}
    quiet = {"APP__HISTORY_DAYS": "0"}  # no background demo history unless a test asks
    return env | {"DATA_DIR": str(data_dir), "SIMULATOR_SPEED": "1", **quiet, **extra}


@contextmanager
def serve_app(env: dict[str, str], log_path: Path) -> Iterator[str]:
    """``streamlit run app.py`` on a free port with ``env``, its output in ``log_path``; yields
    its URL once it answers, and stops it afterwards."""
    port = _free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
             "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(url, process)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="session")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app served by ``streamlit run app.py`` on embedded defaults in a temporary folder."""
    data_dir = tmp_path_factory.mktemp("e2e-data")
    # A burst above the default 10, so a test sending a dozen messages is not rate limited.
    env = offline_env(data_dir, ENGINE__RATE_LIMIT_BURST="30")
    with serve_app(env, data_dir / "streamlit.log") as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless chromium (skips, or fails under REQUIRE_SERVICES=1, when it is not installed).

    Module-scoped: Playwright's sync API keeps an event loop running while it is open, which
    would break the asyncio tests that pytest runs after this folder.
    """
    if not CHROMIUM.exists():
        message = "Debian's chromium is not installed (apt-get install chromium)"
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield instance
        instance.close()


def new_tab(browser: Any, url: str | None = None) -> Any:
    """A fresh browser context's page (1400×1000) with generous default time-outs, on ``url``."""
    from playwright.sync_api import expect

    expect.set_options(timeout=STEP_TIMEOUT_MS)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(STEP_TIMEOUT_MS)
    context.set_default_navigation_timeout(STEP_TIMEOUT_MS)
    tab = context.new_page()
    if url is not None:
        tab.goto(url, wait_until="commit")  # then wait for what the page shows, not its "load"
    return tab


@pytest.fixture
def open_tab(browser: Any) -> Iterator[Callable[[str], Any]]:
    """Opens fresh tabs (each its own session) and closes them all after the test, so that no
    session of an earlier test keeps the app busy refreshing."""
    tabs: list[Any] = []

    def open_(url: str) -> Any:
        tabs.append(new_tab(browser, url))
        return tabs[-1]

    yield open_
    for tab in tabs:
        tab.context.close()


@pytest.fixture
def page(browser: object, app_url: str) -> Iterator[object]:
    """A fresh browser page (1400×1000) on the running app."""
    tab = new_tab(browser, app_url)
    yield tab
    tab.context.close()
