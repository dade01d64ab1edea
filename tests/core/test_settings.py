import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core import settings as settings_module
from core.errors import SettingsError
from core.settings import AppSettings, load_settings, redact_url


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in settings_module.ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(settings_module, "SECRETS_FILE", tmp_path / "secrets.toml")


def test_defaults_need_no_server_and_no_key(tmp_path: Path) -> None:
    settings = load_settings(app=AppSettings(data_dir=tmp_path))

    assert settings.database_url == f"sqlite:///{tmp_path / 'app.db'}"
    assert settings.trace_store_url == settings.database_url
    assert settings.vectors.qdrant_url is None
    assert settings.cache.redis_url is None
    assert settings.providers.openai_api_key is None


def test_flat_environment_names_reach_their_sections(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://app:pw@db:5432/app")
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/0")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")

    settings = load_settings()

    assert settings.database.url == "postgresql://app:pw@db:5432/app"
    assert settings.trace_store_url == "postgresql://app:pw@db:5432/app"
    assert settings.cache.redis_url == "redis://cache:6379/0"
    assert settings.providers.openai_api_key is not None
    assert settings.providers.openai_api_key.get_secret_value() == "sk-test"
    assert settings.tracing.capture_content is True


def test_nested_environment_names_override_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROUTER__BREAKER_FAILURE_THRESHOLD", "9")
    monkeypatch.setenv("ROUTER__DEFAULT_ROUTE", '["gpt-4", "claude-3-sonnet"]')

    settings = load_settings()

    assert settings.router.breaker_failure_threshold == 9
    assert settings.router.default_route == ["gpt-4", "claude-3-sonnet"]


def test_secrets_file_outranks_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    settings_module.SECRETS_FILE.write_text(
        'REDIS_URL = "redis://from-secrets:6379/0"\nQDRANT_URL = "http://qdrant:6333"\n'
    )
    monkeypatch.setenv("REDIS_URL", "redis://from-env:6379/0")
    monkeypatch.setenv("DATABASE_URL", "postgresql://app@db:5432/app")

    settings = load_settings()

    assert settings.cache.redis_url == "redis://from-secrets:6379/0"
    assert settings.vectors.qdrant_url == "http://qdrant:6333"
    assert settings.database.url == "postgresql://app@db:5432/app"


def test_nested_names_are_read_from_the_secrets_file_too() -> None:
    settings_module.SECRETS_FILE.write_text("ROUTER__BREAKER_FAILURE_THRESHOLD = 7\n")

    assert load_settings().router.breaker_failure_threshold == 7


_PROBE = """
import json, os, sys
from pathlib import Path
from core import settings

settings.SECRETS_FILE = Path(sys.argv[2])

def seen():
    loaded = settings.load_settings()
    return {
        "REDIS_URL in os.environ": os.environ["REDIS_URL"],
        "redis": loaded.cache.redis_url,
        "threshold": loaded.router.breaker_failure_threshold,
        "capture": loaded.tracing.capture_content,
    }

before = seen()  # what `python -m seed` reads
from streamlit.web.bootstrap import prepare_streamlit_environment
prepare_streamlit_environment(sys.argv[1])  # what `streamlit run` does before app.py's first line
print(json.dumps({"seed": before, "streamlit run": seen()}))
"""


def test_the_app_and_seed_read_the_same_settings_under_streamlit_run(tmp_path: Path) -> None:
    """``streamlit run`` copies secrets.toml's root keys into ``os.environ`` over variables
    already set; ``python -m seed`` must end up with the same settings as the app."""
    secrets = tmp_path / ".streamlit" / "secrets.toml"
    secrets.parent.mkdir()
    secrets.write_text(
        'REDIS_URL = "redis://from-secrets:6379/0"\n'
        "ROUTER__BREAKER_FAILURE_THRESHOLD = 7\n"
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT = true\n"
    )
    script = tmp_path / "app.py"
    script.write_text("")
    env = {
        name: value
        for name, value in os.environ.items()
        if name.upper() not in settings_module.ENV_NAMES and "__" not in name
    }
    env |= {
        "REDIS_URL": "redis://from-env:6379/0",
        "ROUTER__BREAKER_FAILURE_THRESHOLD": "9",
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "false",
        "HOME": str(tmp_path),
        "PYTHONPATH": str(settings_module.PROJECT_ROOT),
    }

    result = subprocess.run(
        [sys.executable, "-c", _PROBE, str(script), str(secrets)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=True,
    )

    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["seed"]["REDIS_URL in os.environ"] == "redis://from-env:6379/0"
    assert seen["streamlit run"]["REDIS_URL in os.environ"] == "redis://from-secrets:6379/0"
    expected = {"redis": "redis://from-secrets:6379/0", "threshold": 7, "capture": True}
    for path in ("seed", "streamlit run"):
        assert {key: seen[path][key] for key in expected} == expected


def test_keywords_win_over_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATA_DIR", "/somewhere/else")

    assert load_settings(app=AppSettings(data_dir=tmp_path)).app.data_dir == tmp_path


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "mysql://root@localhost/app"),
        ("REDIS_URL", "localhost:6379"),
        ("QDRANT_URL", "qdrant:6333"),
        ("DATABASE_URL", "postgresql://u:pw@localhost:abc/db"),
        ("TRACE_STORE_URL", "postgresql://u:pw@localhost:99999/db"),
        ("REDIS_URL", "redis://127.0.0.1:abc/0"),
        ("QDRANT_URL", "http://localhost:abc"),
        ("QDRANT_URL", "http://[::1:6333"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "garbage"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"),
    ],
)
def test_a_malformed_url_is_one_sentence_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)

    with pytest.raises(SettingsError) as raised:
        load_settings()

    message = str(raised.value)
    assert message.startswith(f"{name} is not valid")
    assert "\n" not in message
    assert ":pw@" not in message


def test_a_list_that_is_not_json_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROUTER__DEFAULT_ROUTE", "gpt-4o")

    with pytest.raises(SettingsError) as raised:
        load_settings()

    assert str(raised.value) == (
        "ROUTER__DEFAULT_ROUTE is not valid: 'gpt-4o' is not a JSON list; "
        'write it like ["gpt-4o", "claude-haiku-4-5"].'
    )


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        ("AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT"),
        ("AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY"),
    ],
)
def test_half_an_azure_configuration_is_refused(
    monkeypatch: pytest.MonkeyPatch, given: str, missing: str
) -> None:
    monkeypatch.setenv(given, "https://nw.openai.azure.com" if "ENDPOINT" in given else "k")

    with pytest.raises(SettingsError) as raised:
        load_settings()

    assert str(raised.value).startswith(f"{given} is set but {missing} is not")


def test_a_broken_secrets_file_is_named() -> None:
    settings_module.SECRETS_FILE.write_text("REDIS_URL = \n")

    with pytest.raises(SettingsError, match=r"secrets\.toml"):
        load_settings()


def test_redact_url_hides_only_the_password() -> None:
    assert redact_url("postgresql://app:s3cret@db:5432/x") == "postgresql://app:***@db:5432/x"
    assert redact_url("sqlite:///data/app.db") == "sqlite:///data/app.db"
    assert redact_url("http://app:s3cret@[::1:6333") == "http://***@[::1:6333"


def test_redact_url_hides_a_password_in_the_query_string() -> None:
    assert (
        redact_url("postgresql://db:5432/x?user=app&password=s3cret&sslmode=require")
        == "postgresql://db:5432/x?user=app&password=***&sslmode=require"
    )
    assert redact_url("postgresql://app@db/x?sslpassword=s3cret") == (
        "postgresql://app@db/x?sslpassword=***"
    )
    assert redact_url("http://[bad/?password=s3cret") == "http://[bad/?password=***"
