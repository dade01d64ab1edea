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


def test_secrets_file_is_read_below_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    settings_module.SECRETS_FILE.write_text(
        'REDIS_URL = "redis://from-secrets:6379/0"\nQDRANT_URL = "http://qdrant:6333"\n'
    )
    monkeypatch.setenv("REDIS_URL", "redis://from-env:6379/0")

    settings = load_settings()

    assert settings.cache.redis_url == "redis://from-env:6379/0"
    assert settings.vectors.qdrant_url == "http://qdrant:6333"


def test_keywords_win_over_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATA_DIR", "/somewhere/else")

    assert load_settings(app=AppSettings(data_dir=tmp_path)).app.data_dir == tmp_path


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "mysql://root@localhost/app"),
        ("REDIS_URL", "localhost:6379"),
        ("QDRANT_URL", "qdrant:6333"),
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


def test_a_broken_secrets_file_is_named() -> None:
    settings_module.SECRETS_FILE.write_text("REDIS_URL = \n")

    with pytest.raises(SettingsError, match=r"secrets\.toml"):
        load_settings()


def test_redact_url_hides_only_the_password() -> None:
    assert redact_url("postgresql://app:s3cret@db:5432/x") == "postgresql://app:***@db:5432/x"
    assert redact_url("sqlite:///data/app.db") == "sqlite:///data/app.db"
