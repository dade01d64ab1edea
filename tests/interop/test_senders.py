"""Spans from the OpenTelemetry SDKs' own OTLP exporters, in separate processes (Python, and
Node.js with ``@opentelemetry/sdk-trace-node``), reach the store priced and listed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import ServedApp

HERE = Path(__file__).resolve().parent
NODE_DIR = HERE / "node"


def _token(app: ServedApp) -> str:
    client_id, secret = app.new_client("ingest:write", "traces:read")
    answer = httpx.post(
        f"{app.url}/api/v1/auth/token", json={"client_id": client_id, "client_secret": secret}
    )
    return str(answer.json()["access_token"])


def _stored(app: ServedApp, token: str, trace_ids: list[str]) -> list[dict[str, object]]:
    """The listed traces among ``trace_ids``, waiting (up to a minute) for all of them."""
    headers = {"Authorization": f"Bearer {token}"}
    deadline = time.monotonic() + 60
    while True:
        found = []
        for trace_id in trace_ids:
            answer = httpx.get(f"{app.url}/api/v1/traces/{trace_id}", headers=headers, timeout=30)
            if answer.status_code == 200:
                found.append(answer.json())
        if len(found) == len(trace_ids) or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def _send(command: list[str], token: str, cwd: Path) -> list[str]:
    env = {**os.environ, "OBSERVATORY_TOKEN": token}
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=True)  # fmt: skip
    return done.stdout.split()


def test_python_sdk_exporter_in_another_process(served_app: ServedApp) -> None:
    served_app.wait_ready()
    token = _token(served_app)
    sent = _send([sys.executable, str(HERE / "python_sender.py"), served_app.url, "4"], token, HERE)
    assert len(sent) == 4
    stored = _stored(served_app, token, sent)
    assert len(stored) == 4
    for found in stored:
        trace = found["trace"]
        assert trace["service"] == "python-refunds"  # type: ignore[index]
        # gpt-4o: $2.50 per million input tokens, $10 per million output tokens.
        assert trace["cost_usd"] == pytest.approx(1000 * 2.5e-6 + 100 * 10e-6)  # type: ignore[index]


@pytest.mark.parametrize("encoding", ["json", "proto"])
def test_node_service_with_the_official_js_sdk(served_app: ServedApp, encoding: str) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed, so the Node.js interop test cannot run.")
    if not (NODE_DIR / "node_modules").is_dir():
        pytest.skip(f"The Node.js packages are not installed: run `npm ci` in {NODE_DIR}.")
    served_app.wait_ready()
    token = _token(served_app)
    sent = _send([node, "send.mjs", served_app.url, encoding, "3"], token, NODE_DIR)
    assert len(sent) == 3
    stored = _stored(served_app, token, sent)
    assert len(stored) == 3
    for found in stored:
        trace = found["trace"]
        assert trace["service"] == f"node-checkout-{encoding}"  # type: ignore[index]
        assert trace["provider"] == "anthropic"  # type: ignore[index]
        # claude-haiku-4-5: $1 per million input tokens, $5 per million output tokens.
        assert trace["cost_usd"] == pytest.approx(2000 * 1e-6 + 500 * 5e-6)  # type: ignore[index]
        [span] = found["spans"]  # type: ignore[misc]
        assert span["cost_status"] == "priced"
        assert span["kind"] == "client"
        assert span["input_tokens"] == 2000 and span["output_tokens"] == 500
