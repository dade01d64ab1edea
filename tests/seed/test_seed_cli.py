"""``python -m seed``: loads the demo data once, and a bad setting is one printed sentence."""

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import settings as settings_module
from seed.__main__ import main
from tests.core.db.postgres_roles import database_without_create
from tests.seed.bad_settings import BAD_SETTINGS

SEED_TIMEOUT_S = 600
# `python -m seed`, with the project's own secrets.toml (if any) swapped for an absent one.
RUN_SEED = (
    "import runpy, sys; from pathlib import Path; from core import settings; "
    "settings.SECRETS_FILE = Path(sys.argv.pop(1)); runpy.run_module('seed', run_name='__main__')"
)


@pytest.fixture
def seed_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """Embedded defaults in a temporary data folder, nothing from the developer's settings."""
    for name in settings_module.ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(settings_module, "SECRETS_FILE", tmp_path / "no-secrets.toml")
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    yield tmp_path / "data"


def _seed(data_dir: Path, *args: str) -> str:
    return _seed_output(data_dir, *args)[-1]


def _seed_output(data_dir: Path, *args: str) -> list[str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if name.upper() not in settings_module.ENV_NAMES and "__" not in name
    }
    env |= {"DATA_DIR": str(data_dir), "PYTHONPATH": str(settings_module.PROJECT_ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", RUN_SEED, str(data_dir.parent / "no-secrets.toml"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=SEED_TIMEOUT_S,
        check=True,
    )
    return done.stdout.strip().splitlines()


def _row_counts(database: Path) -> dict[str, int]:
    with sqlite3.connect(database) as conn:
        query = "SELECT name FROM sqlite_master WHERE type = 'table'"
        tables = [name for (name,) in conn.execute(query)]
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def test_seeding_twice_from_the_command_line_adds_nothing_the_second_time(
    seed_env: Path,
) -> None:
    first = _seed(seed_env)
    after_first = _row_counts(seed_env / "app.db")
    second = _seed(seed_env)

    assert first.startswith(f"Done: sqlite:///{seed_env / 'app.db'} — added ")
    assert second.endswith("added 0 rows and 0 knowledge-base documents.")
    assert after_first["orders"] >= 200
    assert after_first["kb_documents"] >= 17
    assert _row_counts(seed_env / "app.db") == after_first


def test_the_history_from_the_command_line_is_made_once(seed_env: Path) -> None:
    first = _seed_output(seed_env, "--history", "1")
    after_first = _row_counts(seed_env / "app.db")
    second = _seed_output(seed_env, "--history", "1")

    assert any("demo conversations for a 1-day history" in line for line in first)
    assert after_first["conversations"] > 100
    assert after_first["spans"] > after_first["conversations"] * 10
    assert any("conversations are already there" in line for line in second)
    counts = _row_counts(seed_env / "app.db")
    assert counts["conversations"] == after_first["conversations"]
    assert counts["messages"] == after_first["messages"]


@pytest.mark.parametrize(("env", "sentence_start"), BAD_SETTINGS)
def test_a_bad_setting_is_one_printed_sentence(
    seed_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    env: dict[str, str],
    sentence_start: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    assert main([]) == 1

    err = capsys.readouterr().err
    assert err.startswith(f"Seeding failed: {sentence_start}")
    assert err.count("\n") == 1


def test_a_database_user_who_may_not_create_tables_is_one_printed_sentence(
    seed_env: Path,
    postgres_server: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with database_without_create(postgres_server) as url:
        monkeypatch.setenv("DATABASE_URL", url)
        assert main([]) == 1

    err = capsys.readouterr().err
    assert err.startswith("Seeding failed: DATABASE_URL connects as user 'so_reader_")
    assert "grant that user CREATE on that schema" in err
