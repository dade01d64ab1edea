"""One typed settings object for the whole app.

Priority, highest first:

1. keyword arguments (tests: ``Settings(database=DatabaseSettings(url=...))``);
2. root-level keys of ``.streamlit/secrets.toml``: the well-known flat names in ``ENV_NAMES``
   (``DATABASE_URL``, ``OPENAI_API_KEY``…) and, for every other field, ``SECTION__FIELD``
   (``ROUTER__MAX_ATTEMPTS=5``); reading the file here keeps ``core/`` free of ``st.secrets``;
3. environment variables under the same names;
4. the defaults below, which need no server and no key.

The file outranks the environment because ``streamlit run`` makes it so: at server start,
before the app's first line, Streamlit sets ``os.environ[key] = str(value)`` for each root key
(``streamlit.runtime.secrets``), overwriting variables already set, and the values it replaced
are gone. Ranking the file first here gives ``python -m seed`` and the tests the same answer.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.sources.utils import parse_env_vars

from core.errors import SettingsError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SECRETS_FILE = PROJECT_ROOT / ".streamlit" / "secrets.toml"

# Flat names people already use, mapped to (section, field).
ENV_NAMES: dict[str, tuple[str, str]] = {
    "DATA_DIR": ("app", "data_dir"),
    "APP_ENVIRONMENT": ("app", "environment"),
    "DATABASE_URL": ("database", "url"),
    "TRACE_STORE_URL": ("tracing", "store_url"),
    "OTEL_EXPORTER_OTLP_ENDPOINT": ("tracing", "otlp_endpoint"),
    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": ("tracing", "capture_content"),
    "OTEL_SERVICE_NAME": ("tracing", "service_name"),
    "QDRANT_URL": ("vectors", "qdrant_url"),
    "QDRANT_API_KEY": ("vectors", "qdrant_api_key"),
    "REDIS_URL": ("cache", "redis_url"),
    "OPENAI_API_KEY": ("providers", "openai_api_key"),
    "ANTHROPIC_API_KEY": ("providers", "anthropic_api_key"),
    "AZURE_OPENAI_API_KEY": ("providers", "azure_openai_api_key"),
    "AZURE_OPENAI_ENDPOINT": ("providers", "azure_openai_endpoint"),
    "OPENAI_API_VERSION": ("providers", "azure_api_version"),
    "SIMULATOR_SPEED": ("providers", "simulator_speed"),
}


class AppSettings(BaseModel):
    data_dir: Path = PROJECT_ROOT / "data"
    environment: str = "local"
    """``deployment.environment.name`` of the app's own spans (``APP_ENVIRONMENT``); the demo
    history's spans say ``demo``, so Analytics can tell them apart."""
    seed_on_start: bool = True
    history_days: int = Field(default=14, ge=0)
    """Days of demo history the first start makes in the background (0: none)."""
    store_timezone: str = "America/Los_Angeles"
    """Where the shop's stores are: appointment hours are wall-clock times there."""


class DatabaseSettings(BaseModel):
    url: str | None = None
    """SQLAlchemy URL of the app database; unset → SQLite file ``<data_dir>/app.db``."""

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        return _validate_url(value, ("sqlite", "postgresql", "postgres"))


class TracingSettings(BaseModel):
    store_url: str | None = None
    """Trace store URL; unset → the app database (``DATABASE_URL`` or the SQLite file)."""
    service_name: str = "support-observatory"
    otlp_endpoint: str | None = None
    capture_content: bool = False
    sample_rate: float = Field(default=1.0, ge=0.0, le=1.0)
    buffer_spans: int = Field(default=20_000, gt=0)
    export_interval_ms: int = Field(default=500, gt=0)
    compress_after_days: int = Field(default=7, gt=0)
    drop_after_days: int = Field(default=90, gt=0)
    text_index: bool = False
    """A trigram index for the trace list's text search (PostgreSQL): fast search, slower ingest."""
    idle_text_index: bool = True
    """Without ``text_index``: text indexes built by the store writer while idle (PostgreSQL:
    one per day once it is over; SQLite: an FTS5 trigram table)."""

    @field_validator("store_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        return _validate_url(value, ("sqlite", "postgresql", "postgres"))

    @field_validator("otlp_endpoint")
    @classmethod
    def _check_endpoint(cls, value: str | None) -> str | None:
        return _validate_url(value, ("http", "https"))


class VectorSettings(BaseModel):
    qdrant_url: str | None = None
    """Qdrant server; unset → local mode in ``<data_dir>/qdrant``."""
    qdrant_api_key: SecretStr | None = None
    collection: str = "support_kb"
    embedding_model: str = "all-MiniLM-L6-v2"
    """``all-MiniLM-L6-v2`` (offline, shipped) or ``text-embedding-3-small`` (OpenAI key)."""
    chunk_tokens: int = Field(default=500, gt=50)
    chunk_overlap: int = Field(default=80, ge=0)
    top_k: int = Field(default=5, gt=0)
    relevance_threshold: float = 0.2
    max_upload_mb: float = Field(default=20.0, gt=0)
    max_pages: int = Field(default=500, gt=0)
    """Pages one PDF may have; a longer one is refused before its pages are read."""
    max_chunks: int = Field(default=1_500, gt=0)
    """Chunks one document may make (about 750,000 tokens at the default chunk size; embedding
    them locally takes minutes on a small machine)."""
    background_attachment_kb: int = Field(default=256, ge=0)
    """Chat attachments larger than this are indexed beside the turn, not inside it."""

    @field_validator("qdrant_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        return _validate_url(value, ("http", "https"))


class CacheSettings(BaseModel):
    redis_url: str | None = None
    """Redis server; unset → an in-process cache."""
    ttl_seconds: int = Field(default=3600, gt=0)

    @field_validator("redis_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        return _validate_url(value, ("redis", "rediss", "unix"))


class ProviderSettings(BaseModel):
    openai_api_key: SecretStr | None = None
    anthropic_api_key: SecretStr | None = None
    azure_openai_api_key: SecretStr | None = None
    azure_openai_endpoint: str | None = None
    azure_api_version: str = "2024-10-21"
    azure_deployments: dict[str, str] = Field(default_factory=dict)
    """Azure deployment name → model name, e.g. ``{"support-gpt4o": "gpt-4o"}``."""
    simulator_speed: float = Field(default=1.0, ge=0.0)
    """1.0 streams at the catalogue's pace; 0 answers instantly (tests, benchmarks)."""
    simulator_seed: int = 7
    request_timeout_s: float = Field(default=30.0, gt=0)


class RouterSettings(BaseModel):
    default_route: list[str] = Field(
        default_factory=lambda: ["gpt-4o-mini", "claude-haiku-4-5", "gpt-4.1-mini"]
    )
    max_attempts_per_model: int = Field(default=2, ge=1)
    backoff_base_s: float = Field(default=0.5, ge=0)
    backoff_max_s: float = Field(default=8.0, ge=0)
    breaker_failure_threshold: int = Field(default=3, ge=1)
    breaker_reset_s: float = Field(default=30.0, gt=0)


class QualityJudge(StrEnum):
    """When an LLM grades answers on top of the offline score (``ENGINE__QUALITY_JUDGE``)."""

    OFF = "off"
    """Only the offline score (the default: a judge doubles the calls)."""
    REAL_PROVIDERS = "on"
    """Judge answers that came from a real provider; simulated answers keep the offline score."""
    ALWAYS = "always"
    """Judge every answer, simulated ones too (tests and demos of the judge itself)."""


class EngineSettings(BaseModel):
    context_budget_share: float = Field(default=0.6, gt=0, le=1)
    max_tool_rounds: int = Field(default=4, ge=1)
    rate_limit_per_minute: int = Field(default=20, gt=0)
    rate_limit_burst: int = Field(default=10, gt=0)
    max_message_chars: int = Field(default=8_000, gt=0)
    low_quality_threshold: float = Field(default=0.5, ge=0, le=1)
    quality_judge: QualityJudge = QualityJudge.OFF
    storage_attempts: int = Field(default=4, ge=1)
    """Tries of a message write while the app database's connection is lost, before the
    message is held (``core.db.held``)."""
    storage_retry_s: float = Field(default=0.25, ge=0)
    """Wait before the second try; it doubles each try (at most 2 s)."""


class InsightSettings(BaseModel):
    """Experiment statistics, anomaly detection, budgets and the alert webhook (``INSIGHTS__*``)."""

    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    """Significance level of every experiment test (0.05: 95 % intervals)."""
    power: float = Field(default=0.8, gt=0, lt=1)
    """Power the sample still needed is computed for."""
    min_effect: float = Field(default=0.10, gt=0)
    """Smallest relative difference worth detecting (0.10 = 10 %)."""
    anomaly_min_requests: int = Field(default=20, ge=1)
    """A minute or hour with fewer calls is never called anomalous (quiet periods are noisy)."""
    anomaly_baseline_buckets: int = Field(default=60, ge=5)
    """How many earlier buckets (minutes, or hours over longer ranges) make the baseline."""
    anomaly_warning_z: float = Field(default=3.5, gt=0)
    """Robust z-score (median and MAD of the baseline) from which a bucket is a warning."""
    anomaly_alert_z: float = Field(default=6.0, gt=0)
    """Robust z-score from which a bucket is an alert."""
    daily_budget_usd: float | None = Field(default=None, gt=0)
    """Spend per UTC day across all customers; unset → none (the Admin page can set one)."""
    customer_daily_budget_usd: float | None = Field(default=None, gt=0)
    """Spend per UTC day for any one customer; unset → none (the Admin page can set one)."""
    webhook_url: str | None = None
    """Where alerts are POSTed as signed JSON; unset → alerts are only shown."""
    webhook_secret: SecretStr | None = None
    """Key of the ``X-Observatory-Signature`` HMAC-SHA256 header (required with a webhook)."""

    @field_validator("webhook_url")
    @classmethod
    def _check_webhook(cls, value: str | None) -> str | None:
        return _validate_url(value, ("http", "https"))


class ApiSettings(BaseModel):
    """The Analytics API and OTLP receiver (``observability/api``), served with the app."""

    jwt_secret: SecretStr | None = None
    """Key that signs API tokens (HS256); unset → made once, kept in ``<data_dir>/api_jwt.key``."""
    token_ttl_s: int = Field(default=900, gt=0, le=86_400)
    free_per_minute: int = Field(default=60, gt=0)
    standard_per_minute: int = Field(default=600, gt=0)
    enterprise_per_minute: int = Field(default=6_000, gt=0)
    ingest_open_on_loopback: bool = False
    """Take ``POST /v1/traces`` without a token from 127.0.0.1 / ::1 (a laptop demo)."""
    max_ingest_mb: float = Field(default=8.0, gt=0)
    cost_threshold_usd: float = Field(default=0.10, ge=0)
    """A trace costing at least this sends ``cost_threshold`` to websocket subscribers."""


class UnknownEmail(StrEnum):
    """What sign-in does with an e-mail the users table does not know (``AUTH__UNKNOWN_EMAIL``)."""

    CUSTOMER = "customer"
    """Make them a customer (a shop whose customers sign in with any account)."""
    REFUSE = "refuse"
    """Refuse them: an admin invites everyone first."""


class AuthSettings(BaseModel):
    """Who may sign in when the app is hosted with sign-in (``[auth]`` in Streamlit's secrets).

    Whether sign-in is on is Streamlit's to know (its ``[auth]`` section); the page layer tells
    ``core.users`` so. These settings only say what a signed-in e-mail becomes."""

    admin_emails: list[str] = Field(default_factory=list)
    """E-mails that are always admins (``AUTH__ADMIN_EMAILS``: a JSON list or comma-separated);
    the first admins of a new deployment, who invite everyone else."""
    unknown_email: UnknownEmail = UnknownEmail.CUSTOMER

    @field_validator("admin_emails", mode="before")
    @classmethod
    def _split_emails(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list):
            return [str(email).strip().lower() for email in value if str(email).strip()]
        return value


class Settings(BaseSettings):
    """Everything the app can be told. Construct with keywords to override in tests."""

    model_config = SettingsConfigDict(
        env_nested_delimiter="__", extra="ignore", case_sensitive=False, frozen=True
    )

    app: AppSettings = Field(default_factory=AppSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    tracing: TracingSettings = Field(default_factory=TracingSettings)
    vectors: VectorSettings = Field(default_factory=VectorSettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    providers: ProviderSettings = Field(default_factory=ProviderSettings)
    router: RouterSettings = Field(default_factory=RouterSettings)
    engine: EngineSettings = Field(default_factory=EngineSettings)
    insights: InsightSettings = Field(default_factory=InsightSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        secrets = _read_secrets_file(SECRETS_FILE)
        return (
            init_settings,
            _FlatNamesSource(settings_cls, secrets),
            _NestedNamesSource(settings_cls, secrets),
            _FlatNamesSource(settings_cls, os.environ),
            _NestedNamesSource(settings_cls, os.environ),
        )

    @property
    def database_url(self) -> str:
        """The app database URL actually used."""
        return self.database.url or f"sqlite:///{self.app.data_dir / 'app.db'}"

    @property
    def trace_store_url(self) -> str:
        """The trace store URL actually used (the app database unless set apart)."""
        return self.tracing.store_url or self.database_url

    @property
    def qdrant_path(self) -> Path:
        return self.app.data_dir / "qdrant"


def load_settings(**overrides: Any) -> Settings:
    """Read settings, turning any invalid value into one ``SettingsError`` sentence."""
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise SettingsError(f"{_env_name_for(where)} is not valid: {_reason(first)}.") from exc
    _check_azure_pair(settings.providers)
    return settings


def redact_url(url: str) -> str:
    """The URL with any password replaced by ``***``, for showing on a page or in a log: the
    one before the host and any in the query string (``?password=…``, ``sslpassword``, a
    token or key)."""
    try:
        parts = urlsplit(url)
    except ValueError:  # unparseable (a stray "["): hide all that comes before the host
        return _SECRET_PARAM.sub(r"\1***", re.sub(r"//[^/]*@", "//***@", url, count=1))
    query = _SECRET_PARAM.sub(r"\1***", parts.query)
    if parts.password is None and query == parts.query:
        return url
    netloc = parts.netloc
    if parts.password is not None:
        netloc = netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc, query=query))


_SECRET_PARAM = re.compile(
    r"((?:^|[?&;])[^=&;]*(?:pass|pwd|secret|token|key)[^=&;]*=)[^&;]*", re.IGNORECASE
)
"""A query parameter whose name says it holds a secret, up to its value."""


def _validate_url(value: str | None, schemes: tuple[str, ...]) -> str | None:
    """The URL stripped, if its scheme is one of ``schemes`` and its host and port parse."""
    if value is None or not value.strip():
        return None
    url = value.strip()
    try:
        parts = urlsplit(url)
        _ = parts.port  # a port that is not a number from 0 to 65535 raises here
    except ValueError as exc:
        raise ValueError(f"{redact_url(url)!r} is not a URL ({exc})") from exc
    scheme = parts.scheme.split("+", 1)[0].lower()
    if scheme not in schemes:
        allowed = ", ".join(f"{s}://" for s in schemes)
        raise ValueError(f"{redact_url(url)!r} should start with one of {allowed}")
    if scheme in ("http", "https") and not parts.hostname:
        raise ValueError(f"{redact_url(url)!r} names no host")
    return url


def _reason(error: ErrorDetails) -> str:
    """Pydantic's message, or what to write when a list or mapping arrived as plain text."""
    given = error.get("input")
    if error["type"] == "list_type" and isinstance(given, str):
        return f'{given!r} is not a JSON list; write it like ["gpt-4o", "claude-haiku-4-5"]'
    if error["type"] == "dict_type" and isinstance(given, str):
        return f'{given!r} is not a JSON object; write it like {{"name": "value"}}'
    return str(error["msg"]).removeprefix("Value error, ")


def _check_azure_pair(providers: ProviderSettings) -> None:
    """Azure needs its key and its endpoint; one without the other is a mistake, not a choice."""
    key = providers.azure_openai_api_key
    has_key = key is not None and bool(key.get_secret_value().strip())
    has_endpoint = bool(providers.azure_openai_endpoint)
    if has_key == has_endpoint:
        return
    names = ("AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT")
    given, missing = names if has_key else names[::-1]
    raise SettingsError(
        f"{given} is set but {missing} is not: set both to use Azure OpenAI, or neither to "
        "answer Azure requests with the offline simulator."
    )


def _env_name_for(location: str) -> str:
    section, _, field = location.partition(".")
    field = field.split(".", 1)[0]
    for env_name, target in ENV_NAMES.items():
        if target == (section, field):
            return env_name
    return f"{section.upper()}__{field.upper()}" if field else section.upper()


def _read_secrets_file(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"{path} could not be read as TOML: {exc}.") from exc
    return {key: str(value) for key, value in data.items() if not isinstance(value, dict)}


class _NestedNamesSource(EnvSettingsSource):
    """``SECTION__FIELD`` names read from a mapping instead of ``os.environ``.

    Text that is not JSON where a list or mapping is expected is passed on as text, so that
    validation reports it under its own name rather than pydantic-settings under the section's.
    """

    def __init__(self, settings_cls: type[BaseSettings], values: Mapping[str, str]) -> None:
        self._values = values
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(
            self._values, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str
        )

    def decode_complex_value(self, field_name: str, field: FieldInfo, value: Any) -> Any:
        try:
            return super().decode_complex_value(field_name, field, value)
        except ValueError:
            return value


class _FlatNamesSource(PydanticBaseSettingsSource):
    """Reads the flat names of ``ENV_NAMES`` from a mapping into nested sections."""

    def __init__(self, settings_cls: type[BaseSettings], values: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self._values = {key.upper(): value for key, value in values.items()}

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        nested: dict[str, dict[str, Any]] = {}
        for env_name, (section, field) in ENV_NAMES.items():
            value = self._values.get(env_name)
            if value is not None and value != "":
                nested.setdefault(section, {})[field] = value
        return nested
