from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.core.db.postgres_roles import database_without_create
from tests.pages.conftest import APP
from tests.seed.bad_settings import BAD_SETTINGS, REDIS_URL_REDIS_PY_REJECTS

APP_TIMEOUT_S = 180


def _component_rows(at: AppTest) -> dict[str, dict[str, str]]:
    table = at.table[0].value
    return {str(name): row for name, row in table.to_dict("index").items()}


def test_first_start_seeds_and_shows_what_the_demo_contains(app_env: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT_S).run()

    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Customers"]) >= 50
    assert int(metrics["Orders"]) >= 200
    assert int(metrics["Appointment slots, next 30 days"]) > 1000
    assert int(metrics["Knowledge-base documents"]) >= 17
    assert (app_env / "app.db").is_file()


def test_home_shows_every_components_status(app_env: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT_S)
    at.session_state["role"] = "admin"
    at.run()

    rows = _component_rows(at)
    assert rows["Database"]["backend"] == "SQLite"
    assert rows["Database"]["where"].endswith("app.db")
    assert rows["Trace store"]["where"] == "same database as the app"
    assert rows["Vector store"]["backend"] == "Qdrant (local mode)"
    assert rows["Cache"]["backend"] == "In-process"
    assert rows["Embeddings"]["backend"] == "Local ONNX model"
    assert all(row["status"] == "✅ ok" for row in rows.values())


def test_home_lists_each_provider_as_real_or_simulated(
    app_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-home-test-key")
    monkeypatch.setenv("APP__SEED_ON_START", "false")

    at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT_S)
    at.session_state["role"] = "admin"
    at.run()

    rows = _component_rows(at)
    providers = {name: row for name, row in rows.items() if name.startswith("LLM: ")}
    assert {name: row["backend"] for name, row in providers.items()} == {
        "LLM: OpenAI": "Real API",
        "LLM: Anthropic": "Offline simulator",
        "LLM: Azure OpenAI": "Offline simulator",
    }
    assert providers["LLM: OpenAI"]["where"] == "api.openai.com"
    assert "ANTHROPIC_API_KEY" in providers["LLM: Anthropic"]["detail"]
    assert "sk-home-test-key" not in str(at.table[0].value)


def test_postgres_url_is_shown_without_its_password(
    app_env: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_password = postgres_url.replace("postgres@", "postgres:not-needed@", 1)
    monkeypatch.setenv("DATABASE_URL", with_password)
    monkeypatch.setenv("APP__SEED_ON_START", "false")

    at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT_S)
    at.session_state["role"] = "admin"
    at.run()

    rows = _component_rows(at)
    assert rows["Database"]["backend"].startswith("PostgreSQL ")
    assert ":***@" in rows["Database"]["where"]
    assert "not-needed" not in str(at.table[0].value)


def test_unreachable_database_stops_with_one_sentence(
    app_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://app:pw@127.0.0.1:1/app")

    at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT_S).run()

    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert message.startswith(
        "DATABASE_URL points to postgresql+psycopg://app:***@127.0.0.1:1/app, which did not answer"
    )
    assert message.endswith("or unset DATABASE_URL to use the built-in SQLite file.")


def test_malformed_setting_stops_with_one_sentence(
    app_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", "localhost:6379")

    at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT_S).run()

    assert not at.exception
    assert len(at.error) == 1
    assert at.error[0].value.startswith("REDIS_URL is not valid")


@pytest.mark.parametrize(("env", "sentence_start"), [*BAD_SETTINGS, REDIS_URL_REDIS_PY_REJECTS])
def test_a_bad_setting_stops_the_app_with_one_sentence_naming_it(
    app_env: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], sentence_start: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT_S).run()

    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert message.startswith(sentence_start)
    assert "\n" not in message


def test_a_database_user_who_may_not_create_tables_is_told_which_permission(
    app_env: Path, postgres_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with database_without_create(postgres_server) as url:
        monkeypatch.setenv("DATABASE_URL", url)
        at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT_S).run()
        st.cache_resource.clear()  # closes the engine before its database is dropped

    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert message.startswith("DATABASE_URL connects as user 'so_reader_")
    assert "(permission denied for schema public); grant that user CREATE on that schema" in message


def test_home_shows_the_trace_store_counts_and_they_add_up(
    app_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APP__SEED_ON_START", "false")

    at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT_S).run()

    [block] = [c.value for c in at.code if "observatory_trace_store_spans" in c.value]
    counts = {line.split('"')[1]: int(line.rsplit(" ", 1)[1]) for line in block.splitlines()}
    assert set(counts) == {"ended", "written", "dropped", "pending"}
    assert counts["ended"] == counts["written"] + counts["dropped"] + counts["pending"]


@pytest.mark.parametrize("role", ["customer", "agent"])
def test_server_paths_are_for_admins_only(seeded_env: Path, role: str) -> None:
    at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT_S)
    at.session_state["role"] = role
    at.run()

    table = at.table[0].value
    assert "where" not in table.columns
    shown = " ".join(str(cell) for cell in table.to_numpy().ravel())
    assert "sqlite" not in shown and str(seeded_env) not in shown
