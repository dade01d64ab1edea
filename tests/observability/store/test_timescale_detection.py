"""Which path the store takes on a server, depending on what it offers of TimescaleDB."""

from __future__ import annotations

import logging

import psycopg
import pytest

from observability.store import create_store_engine, prepare_store
from observability.store.dialect import TIMESCALEDB_LOADER_SETTING, StoreDialect


def _offers(url: str) -> tuple[bool, bool]:
    """Whether the server has TimescaleDB's files, and whether it preloads the library."""
    with psycopg.connect(url, connect_timeout=3) as conn:
        row = conn.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'), "
            f"current_setting('{TIMESCALEDB_LOADER_SETTING}', true) IS NOT NULL"
        ).fetchone()
    assert row is not None
    return bool(row[0]), bool(row[1])


@pytest.fixture
def dialect() -> str:
    """These stores are on PostgreSQL."""
    return "postgresql"


def test_installed_but_not_preloaded_uses_plain_postgres_and_says_why(
    postgres_server: str, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    if _offers(postgres_server) != (True, False):
        pytest.skip(
            "needs TEST_POSTGRES_URL on a server with TimescaleDB installed but not in "
            "shared_preload_libraries"
        )
    engine = create_store_engine(database_url)
    with caplog.at_level(logging.WARNING, logger="observability.store"):
        dialect = prepare_store(engine, compress_after_days=7, drop_after_days=90)
    engine.dispose()
    assert dialect is StoreDialect.POSTGRESQL
    assert "not preloaded" in caplog.text and "shared_preload_libraries" in caplog.text


def test_a_server_without_timescaledb_uses_plain_postgres_quietly(
    postgres_server: str, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    if _offers(postgres_server)[0]:
        pytest.skip("needs TEST_POSTGRES_URL on a server without TimescaleDB's files")
    engine = create_store_engine(database_url)
    with caplog.at_level(logging.WARNING, logger="observability.store"):
        dialect = prepare_store(engine, compress_after_days=7, drop_after_days=90)
    engine.dispose()
    assert dialect is StoreDialect.POSTGRESQL
    assert "TimescaleDB" not in caplog.text
