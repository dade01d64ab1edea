"""``compose.yaml`` and the ``Dockerfile`` as a deployment needs them: every image pinned to a
version, a health check on every service (the app's on its own ``/health``), secrets only from
the environment, and a second app replica on the same stores."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
PINNED = re.compile(r"^[\w./-]+:v?\d+(\.\d+)+[\w.-]*$")


def _compose() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "compose.yaml").read_text()))


def test_every_image_is_pinned_to_a_version() -> None:
    images = [s["image"] for s in _compose()["services"].values() if "image" in s]
    base = re.findall(r"^FROM (\S+)", (ROOT / "Dockerfile").read_text(), re.MULTILINE)

    assert images and base
    assert [i for i in [*images, *base] if not PINNED.match(i) or "latest" in i] == []


def test_every_service_has_a_health_check_and_the_app_uses_its_own() -> None:
    services = _compose()["services"]

    assert [name for name, s in services.items() if "healthcheck" not in s] == []
    assert "/health'" in " ".join(services["app"]["healthcheck"]["test"])
    assert "8501/health" in (ROOT / "Dockerfile").read_text()


def test_secrets_come_from_the_environment() -> None:
    text = (ROOT / "compose.yaml").read_text()
    secrets = re.findall(r"^\s+([A-Z_]*(?:PASSWORD|API_KEY|SECRET)[A-Z_]*):\s*(.+)$", text, re.M)

    assert len(secrets) >= 6
    assert [name for name, value in secrets if not value.startswith("${")] == []


def test_a_second_replica_shares_the_first_ones_stores() -> None:
    services = _compose()["services"]
    first, second = services["app"]["environment"], services["app-2"]["environment"]

    for shared in ("DATABASE_URL", "REDIS_URL", "QDRANT_URL", "API__JWT_SECRET"):
        assert first[shared] == second[shared]
    assert services["app-2"]["depends_on"]["app"]["condition"] == "service_healthy"
