"""The README's getting-started example, run as written against the running app, while another
service sends spans."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from tests.api.conftest import PROJECT_ROOT, ServedApp
from tests.api.otlp_payloads import chat_spans, protobuf_request


def _example() -> str:
    readme = (PROJECT_ROOT / "README.md").read_text()
    section = readme.split("### Getting started", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found is not None
    return found.group(1)


def _wait_until_stored(url: str, authorization: str, timeout_s: float = 60) -> None:
    """The receiver answers once the store's buffer holds the spans; wait for the write."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = httpx.get(f"{url}/api/v1/costs/breakdown", params={"by": "model"},
                          headers={"Authorization": authorization}).json()  # fmt: skip
        if found["data"]:
            return
        time.sleep(0.5)
    raise TimeoutError(f"the sent span was not stored within {timeout_s} s")


def test_readme_example_runs_as_written(served_app: ServedApp, tmp_path: Path) -> None:
    served_app.wait_ready()
    client_id, secret = served_app.new_client()
    credentials = {"client_id": client_id, "client_secret": secret}
    token = httpx.post(f"{served_app.url}/api/v1/auth/token", json=credentials).json()
    headers = {"Content-Type": "application/x-protobuf",
               "Authorization": f"Bearer {token['access_token']}"}  # fmt: skip
    sent = chat_spans(1)
    body = protobuf_request(sent, service="getting-started")
    assert (
        httpx.post(f"{served_app.url}/v1/traces", content=body, headers=headers).status_code == 200
    )
    _wait_until_stored(served_app.url, headers["Authorization"])
    stop = threading.Event()

    def keep_sending() -> None:
        while not stop.wait(1.0):
            more = protobuf_request(chat_spans(1), service="getting-started")
            httpx.post(f"{served_app.url}/v1/traces", content=more, headers=headers)

    sender = threading.Thread(target=keep_sending, daemon=True)
    sender.start()
    env = {**os.environ, "OBSERVATORY_URL": served_app.url, "CLIENT_ID": client_id,
           "CLIENT_SECRET": secret, "PYTHONPATH": str(PROJECT_ROOT)}  # fmt: skip
    try:
        done = subprocess.run([sys.executable, "-c", _example()], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=180)  # fmt: skip
    finally:
        stop.set()
        sender.join()
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith("gpt-4o-mini: $") for line in lines), lines
    assert any(line.endswith("spans.csv") for line in lines), lines
    assert lines[-1].startswith("trace_created ") and lines[-1].endswith(" getting-started")
    rows = (tmp_path / "spans.csv").read_text().splitlines()
    exported = next(line for line in lines if "spans in" in line)
    assert len(rows) - 1 == int(exported.split()[0])
