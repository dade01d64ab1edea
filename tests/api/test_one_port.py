"""``streamlit run app.py`` (and ``uvicorn app:app``) serves the UI and the API on one port, in
one process."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx

from tests.api.conftest import PROJECT_ROOT, ServedApp


def test_ui_api_docs_health_and_metrics_share_one_port(served_app: ServedApp) -> None:
    url = served_app.url
    assert httpx.get(f"{url}/_stcore/health").text == "ok"
    assert "<title>Streamlit</title>" in httpx.get(f"{url}/").text
    health = httpx.get(f"{url}/health")
    assert health.status_code == 200
    assert health.json()["store"] == "ok"
    docs = httpx.get(f"{url}/api/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    spec = httpx.get(f"{url}/api/openapi.json").json()
    assert "/api/v1/traces" in spec["paths"]
    assert "observatory_api_requests_total" in httpx.get(f"{url}/metrics").text


def test_client_made_by_the_command_gets_a_token_and_lists_traces(served_app: ServedApp) -> None:
    client_id, secret = served_app.new_client("traces:read")
    token = httpx.post(
        f"{served_app.url}/api/v1/auth/token",
        json={"client_id": client_id, "client_secret": secret},
    ).json()["access_token"]
    answer = httpx.get(
        f"{served_app.url}/api/v1/traces", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200
    assert answer.headers["X-RateLimit-Limit"] == "600"
    assert isinstance(answer.json()["data"], list)


def test_uvicorn_serves_the_same_app(served_app: ServedApp) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "uvicorn", "app:app", "--port", str(port)]
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=served_app.env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                health = httpx.get(f"{url}/health", timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.5)
        assert health.json()["store"] == "ok"
        assert "<title>Streamlit</title>" in httpx.get(f"{url}/").text
        assert "/v1/traces" in httpx.get(f"{url}/api/openapi.json").json()["paths"]
    finally:
        process.terminate()
        process.wait(timeout=60)
