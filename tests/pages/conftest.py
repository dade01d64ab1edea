"""Page tests run the real app through ``AppTest`` on embedded defaults in a temporary folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st

from core import settings as settings_module

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def app_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """One app process: its own data folder, simulator at full speed, fresh caches."""
    for name in settings_module.ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(settings_module, "SECRETS_FILE", tmp_path / "no-secrets.toml")
    data_dir = tmp_path / "data"
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    monkeypatch.setenv("SIMULATOR_SPEED", "0")
    st.cache_resource.clear()
    yield data_dir
    st.cache_resource.clear()
