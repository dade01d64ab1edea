"""A ``streamlit run app.py`` on a free port with a fresh data folder, and headless chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def app_env(
    data_dir: Path | str, *, simulator_speed: float = 1.0, history_days: int = 0
) -> dict[str, str]:
    """The environment of an app on embedded defaults in ``data_dir`` (no keys, no servers;
    no background demo history unless ``history_days``)."""
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_URL"))}
    return env | {
        "DATA_DIR": str(data_dir),
        "SIMULATOR_SPEED": str(simulator_speed),
        "APP__HISTORY_DAYS": str(history_days),
    }


def seed_folder(data_dir: Path, *, history_days: int = 0) -> None:
    """``python -m seed`` into ``data_dir``: demo rows and the indexed help centre, and with
    ``history_days`` the demo history of that many days (no spans otherwise)."""
    history = ["--history", str(history_days)] if history_days else []
    subprocess.run(
        [sys.executable, "-m", "seed", *history],
        cwd=PROJECT_ROOT,
        env=app_env(data_dir),
        check=True,
        stdout=subprocess.DEVNULL,
    )


@contextmanager
def running_app(
    *, simulator_speed: float = 1.0, data_dir: Path | None = None, history_days: int = 0
) -> Iterator[str]:
    """The app on embedded defaults in ``data_dir`` (default: a new temporary folder, so the
    first page view seeds it); yields its URL."""
    port = _free_port()
    with tempfile.TemporaryDirectory() as scratch:
        env = app_env(
            data_dir or scratch, simulator_speed=simulator_speed, history_days=history_days
        )
        command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)]
        command += ["--server.headless", "true", "--browser.gatherUsageStats", "false"]
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(url)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=20)


def _wait_healthy(url: str, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"streamlit did not answer at {url} within {timeout_s} s")


@contextmanager
def browser_page(url: str, *, width: int = 1400, height: int = 900) -> Iterator[Any]:
    """A Playwright page on ``url`` in Debian's chromium, once Home has finished seeding."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(url)
        expect(page.get_by_text("What the demo contains")).to_be_visible(timeout=300_000)
        try:
            yield page
        finally:
            browser.close()
