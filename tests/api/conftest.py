"""The API over a real trace store, an Observatory writing to it, and a client to call it."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from opentelemetry.sdk.trace import ReadableSpan

from observability import Observatory
from observability.api import (
    ApiConfig,
    ApiServices,
    ClientRegistry,
    Tier,
    create_api,
    create_api_services,
)
from observability.report_queries import ReportQueries
from observability.store import create_store_engine, prepare_store
from observability.store.rows import span_to_row
from observability.store.writer import SqlSpanWriter
from tests.e2e.conftest import PROJECT_ROOT, offline_env, serve_app

ALL_SCOPES = ("traces:read", "metrics:read", "costs:read", "exports:write", "ingest:write")


@dataclass
class ApiHarness:
    """The API under test, its services, the Observatory behind ingest and an HTTP client."""

    api: FastAPI
    services: ApiServices
    observatory: Observatory
    http: TestClient

    def token(self, scopes: tuple[str, ...] = ALL_SCOPES, tier: str = Tier.STANDARD) -> str:
        """A token of a new client with ``scopes``."""
        made = self.services.clients.create("test client", scopes, tier)
        answer = self.http.post(
            "/api/v1/auth/token",
            json={"client_id": made.client.client_id, "client_secret": made.secret},
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])

    def auth(
        self, scopes: tuple[str, ...] = ALL_SCOPES, tier: str = Tier.STANDARD
    ) -> dict[str, str]:
        """``Authorization`` header of a new client with ``scopes``."""
        return {"Authorization": f"Bearer {self.token(scopes, tier)}"}

    def flush(self) -> None:
        """Write every span the Observatory holds."""
        assert self.observatory.force_flush(30_000)


def build_harness(
    store_url: str, tmp_path: Path, *, client_host: str = "testclient", **config: object
) -> Iterator[ApiHarness]:
    """An ``ApiHarness`` on the store at ``store_url`` (created here)."""
    engine = create_store_engine(store_url)
    prepare_store(engine, compress_after_days=7, drop_after_days=90)
    observatory = Observatory(service_name="api-test", environment="test", store_url=store_url,
                              export_interval_ms=50)  # fmt: skip
    settings = ApiConfig(jwt_key=b"k" * 32, export_dir=tmp_path / "exports", **config)  # type: ignore[arg-type]
    services = create_api_services(settings, ClientRegistry(engine), ReportQueries(engine))
    services.readiness.sink = observatory
    observatory.tracer_provider.add_span_processor(services.trace_events)
    api = create_api(services)
    with TestClient(api, raise_server_exceptions=False, client=(client_host, 50000)) as http:
        yield ApiHarness(api, services, observatory, http)
    services.exports.close()
    observatory.shutdown()
    engine.dispose()


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[ApiHarness]:
    """The API on a SQLite store."""
    yield from build_harness(f"sqlite:///{tmp_path / 'traces.db'}", tmp_path)


@pytest.fixture
def any_harness(database_url: str, tmp_path: Path) -> Iterator[ApiHarness]:
    """The API on a SQLite store and on PostgreSQL."""
    yield from build_harness(database_url, tmp_path)


@dataclass(frozen=True)
class ServedApp:
    """``streamlit run app.py`` on a free port: its URL and its environment."""

    url: str
    env: dict[str, str]

    def new_client(self, *scopes: str) -> tuple[str, str]:
        """(id, secret) of a client made by the command line, as an admin would."""
        command = [sys.executable, "-m", "core.api", "clients", "create", "test", "--scopes",
                   *(scopes or ALL_SCOPES)]  # fmt: skip
        done = subprocess.run(command, env=self.env, cwd=PROJECT_ROOT, capture_output=True,
                              text=True, check=True, timeout=120)  # fmt: skip
        found = dict(
            line.split(":", 1) for line in done.stdout.splitlines() if line.startswith("client_")
        )
        return found["client_id"].strip(), found["client_secret"].strip()

    def wait_ready(self, timeout_s: float = 300) -> None:
        """Wait until ``/health`` says ingest is up (the UI's services are built)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            health = httpx.get(f"{self.url}/health", timeout=10).json()
            if health["ingest"] == "ok":
                return
            assert health["ingest"] != "unavailable", health
            time.sleep(1)
        raise TimeoutError(f"ingest did not start within {timeout_s} s")


@pytest.fixture(scope="session")
def served_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApp]:
    """The whole app (UI, API, OTLP receiver) in one process on embedded defaults."""
    data_dir = tmp_path_factory.mktemp("api-app") / "data"
    env = offline_env(data_dir, SIMULATOR_SPEED="0")
    with serve_app(env, data_dir.parent / "streamlit.log") as url:
        yield ServedApp(url, env)


def load_spans(harness: ApiHarness, spans: list[ReadableSpan]) -> None:
    """Write ``spans`` straight to the harness's store (as the store processor would)."""
    engine = create_store_engine(str(harness.services.clients._engine.url))
    writer = SqlSpanWriter(engine, prepare_store(engine, compress_after_days=7, drop_after_days=90))
    rows = [span_to_row(s) for s in spans]
    for i in range(0, len(rows), 1000):
        writer.write(rows[i : i + 1000])
    engine.dispose()
