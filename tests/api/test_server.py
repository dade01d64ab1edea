"""The API inside the app: answers ``not_ready`` in the error body until it has started, and
says why when it cannot start."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette

from core import settings as settings_module
from core.api import ApiServer
from observability import Observatory
from observability.api import api_routes


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in settings_module.ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(settings_module, "SECRETS_FILE", tmp_path / "none.toml")
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def _app(server: ApiServer) -> Starlette:
    return Starlette(routes=api_routes(server), lifespan=server.lifespan)


def test_before_start_every_path_is_503_not_ready() -> None:
    server = ApiServer(lambda: Observatory(store_url=None))
    answer = TestClient(Starlette(routes=api_routes(server))).get("/api/v1/traces")
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "5"
    assert answer.json()["error"]["code"] == "not_ready"


def test_a_setting_it_cannot_use_is_named(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API__TOKEN_TTL_S", "-5")
    server = ApiServer(lambda: Observatory(store_url=None))
    with TestClient(_app(server)) as http:
        answer = http.get("/health")
    assert answer.status_code == 503
    assert "API__TOKEN_TTL_S is not valid" in answer.json()["error"]["message"]


def test_started_from_settings_with_ingest_on_the_observatory(clean_env: Path) -> None:
    made: list[Observatory] = []

    def observatory() -> Observatory:
        made.append(Observatory(store_url=f"sqlite:///{clean_env / 'data' / 'app.db'}"))
        return made[0]

    server = ApiServer(observatory)
    with TestClient(_app(server)) as http:
        assert server.services is not None
        deadline = time.monotonic() + 60
        while server.services.readiness.sink is None and time.monotonic() < deadline:
            time.sleep(0.05)
        health = http.get("/health").json()
        assert (health["store"], health["ingest"]) == ("ok", "ok")
        assert (clean_env / "data" / "api_jwt.key").stat().st_mode & 0o777 == 0o600
    made[0].shutdown()
