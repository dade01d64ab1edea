"""Page tests run the real app through ``AppTest`` on embedded defaults in a temporary folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st

from core import settings as settings_module

APP = str(Path(__file__).resolve().parents[2] / "ui.py")


@pytest.fixture
def app_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """One app process: its own data folder, simulator at full speed, fresh caches."""
    for name in settings_module.ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(settings_module, "SECRETS_FILE", tmp_path / "no-secrets.toml")
    data_dir = tmp_path / "data"
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    monkeypatch.setenv("SIMULATOR_SPEED", "0")
    monkeypatch.setenv("APP__HISTORY_DAYS", "0")  # a first start here makes no demo history
    st.cache_resource.clear()
    yield data_dir
    st.cache_resource.clear()


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder seeded once per test session by ``python -m seed`` (the demo rows and
    the indexed help centre, no spans yet)."""
    import os
    import subprocess
    import sys

    data_dir = tmp_path_factory.mktemp("seeded") / "data"
    env = {k: v for k, v in os.environ.items() if k not in settings_module.ENV_NAMES}
    env |= {"DATA_DIR": str(data_dir), "SIMULATOR_SPEED": "0"}
    subprocess.run(
        [sys.executable, "-m", "seed"],
        cwd=Path(APP).parent,
        env=env,
        check=True,
        capture_output=True,
    )
    return data_dir


@pytest.fixture
def seeded_env(app_env: Path, seeded_template: Path) -> Path:
    """``app_env`` on a copy of the seeded folder: the app starts without seeding."""
    import shutil

    shutil.copytree(seeded_template, app_env)
    return app_env
