"""Fixtures shared by every test package.

Servers: PostgreSQL at ``TEST_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``)
and Redis at ``TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/15``). Without them the tests
that need them skip with a message saying what to start; with ``REQUIRE_SERVICES=1`` (CI) they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis

from core.settings import AppSettings, Settings

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_TEST_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks every test that needs PostgreSQL or Redis, however it reaches the server, so that
    ``pytest -m "not postgres and not redis"`` leaves them all out."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        callspec = getattr(item, "callspec", None)
        params = callspec.params if callspec else {}
        if fixtures & {"postgres_server", "postgres_url"} or params.get("dialect") == "postgresql":
            item.add_marker(pytest.mark.postgres)
        if "redis_url" in fixtures:
            item.add_marker(pytest.mark.redis)


def _missing(what: str, how: str, error: Exception) -> None:
    message = f"{what} is not reachable ({error}); {how}"
    if REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but {message}")
    pytest.skip(message)


def _database_missing(admin_url: str) -> bool:
    """Whether the server answers but the database the URL names does not exist."""
    base, _, name = admin_url.rpartition("/")
    try:
        with psycopg.connect(f"{base}/postgres", connect_timeout=3) as conn:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    except psycopg.Error:
        return False
    return found is None


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The admin URL of a PostgreSQL server that answers (skips or fails otherwise)."""
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        if _database_missing(POSTGRES_ADMIN_URL):
            database = POSTGRES_ADMIN_URL.rpartition("/")[2]
            how = f"create it with `createdb -h 127.0.0.1 -U postgres {database}`"
            _missing(f"PostgreSQL answers but database {database!r}", how, exc)
        _missing(
            "PostgreSQL at " + POSTGRES_ADMIN_URL, "start PostgreSQL or set TEST_POSTGRES_URL", exc
        )
    return POSTGRES_ADMIN_URL


def _with_database(admin_url: str, name: str) -> str:
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh PostgreSQL database for this test run (psycopg URL), dropped afterwards."""
    name = f"so_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(postgres_server, name).replace(
            "postgresql://", "postgresql+psycopg://", 1
        )
    finally:
        with psycopg.connect(postgres_server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def dialect(request: pytest.FixtureRequest) -> str:
    """Parametrises a test over both database backends."""
    return str(request.param)


@pytest.fixture
def database_url(dialect: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """An empty database of the ``dialect`` under test (a fresh schema on PostgreSQL)."""
    if dialect == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    base_url: str = request.getfixturevalue("postgres_url")
    schema = f"t_{uuid.uuid4().hex[:10]}"
    plain = base_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{base_url}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def redis_url() -> str:
    """A Redis URL on a test database number, flushed before the test (skips or fails otherwise)."""
    try:
        client = redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=2)
        client.flushdb()
        client.close()
    except redis.RedisError as exc:
        _missing("Redis at " + REDIS_TEST_URL, "start redis-server or set TEST_REDIS_URL", exc)
    return REDIS_TEST_URL


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with every part embedded in a temporary folder and the simulator at full speed."""
    from core.settings import ProviderSettings

    return Settings(
        app=AppSettings(data_dir=tmp_path / "data", seed_on_start=False),
        providers=ProviderSettings(simulator_speed=0.0),
    )
