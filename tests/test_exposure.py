"""Nothing is open to the network unless asked: the app listens on loopback, and compose
publishes no database or vector store and ships no fixed password."""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_streamlit_listens_on_loopback_by_default() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())

    assert config["server"]["address"] == "127.0.0.1"


def test_compose_publishes_only_the_app_on_loopback_with_secrets_from_the_environment() -> None:
    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]

    published = {name: spec.get("ports") for name, spec in services.items() if spec.get("ports")}
    assert published == {
        "app": ["${APP_BIND:-127.0.0.1}:8501:8501"],
        "app-2": ["${APP_BIND:-127.0.0.1}:8502:8501"],  # the second replica (profile "replicas")
    }
    database = services["timescaledb"]["environment"]
    assert database["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    assert services["qdrant"]["environment"]["QDRANT__SERVICE__API_KEY"].startswith(
        "${QDRANT_API_KEY:?"
    )
    app = services["app"]["environment"]
    assert ":observatory@" not in app["DATABASE_URL"]
    assert app["QDRANT_API_KEY"].startswith("${QDRANT_API_KEY:?")
