from dataclasses import replace
from pathlib import Path

from core.db import create_db_engine
from core.settings import AppSettings, CacheSettings, Settings, VectorSettings
from core.status import (
    Health,
    describe_cache,
    describe_database,
    describe_storage,
    describe_vector_store,
)
from observability.store import ExportStats


def test_embedded_defaults_are_described(tmp_path: Path) -> None:
    settings = Settings(app=AppSettings(data_dir=tmp_path))
    engine = create_db_engine(settings.database_url)

    statuses = {s.component: s for s in describe_storage(settings, engine)}

    assert statuses["Database"].backend == "SQLite"
    assert statuses["Database"].health is Health.OK
    assert statuses["Trace store"].location == "same database as the app"
    assert statuses["Vector store"].backend == "Qdrant (local mode)"
    assert statuses["Cache"].backend == "In-process"


def test_postgres_backend_and_version_are_named(postgres_url: str) -> None:
    status = describe_database(create_db_engine(postgres_url))

    assert status.health is Health.OK
    assert status.backend.startswith("PostgreSQL ")


def test_redis_that_answers_shows_its_version(redis_url: str) -> None:
    status = describe_cache(Settings(cache=CacheSettings(redis_url=redis_url)))

    assert status.health is Health.OK
    assert status.backend.startswith("Redis ")


def test_redis_that_does_not_answer_says_what_to_do() -> None:
    status = describe_cache(Settings(cache=CacheSettings(redis_url="redis://127.0.0.1:1/0")))

    assert status.health is Health.DOWN
    assert "REDIS_URL points to redis://127.0.0.1:1/0" in status.detail
    assert "in-process cache" in status.detail


def test_qdrant_server_that_does_not_answer_says_what_to_do() -> None:
    status = describe_vector_store(
        Settings(vectors=VectorSettings(qdrant_url="http://127.0.0.1:1"))
    )

    assert status.health is Health.DOWN
    assert "unset QDRANT_URL" in status.detail


def test_database_password_never_shown() -> None:
    engine = create_db_engine("postgresql://app:hunter2@127.0.0.1:1/app")

    status = describe_database(engine)

    assert status.health is Health.DOWN
    assert "hunter2" not in status.location + status.detail


def test_the_trace_store_is_down_while_its_writes_fail_though_it_answers(
    settings: Settings,
) -> None:
    engine = create_db_engine(settings.database_url)
    failing = ExportStats(
        written=10, pending=40, dropped=3, last_error="OperationalError: x", ended=53, failing=True
    )
    recovered = replace(failing, pending=0, written=50, failing=False)

    down = describe_storage(settings, engine, store_stats=failing)[1]
    back = describe_storage(settings, engine, store_stats=recovered)[1]
    engine.dispose()

    assert (down.component, down.health) == ("Trace store", Health.DOWN)
    assert "not taking spans" in down.detail and "40 wait" in down.detail
    assert back.health is Health.OK and "3 of 53 spans were dropped" in back.detail
