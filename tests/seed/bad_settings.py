"""Bad settings, and how the sentence that stops the app (or ``python -m seed``) must begin."""

import pytest

BAD_SETTINGS = [
    pytest.param(
        {"DATABASE_URL": "postgresql://u:pw@localhost:abc/db"},
        "DATABASE_URL is not valid: 'postgresql://u:***@localhost:abc/db' is not a URL (",
        id="database-port",
    ),
    pytest.param(
        {"REDIS_URL": "redis://127.0.0.1:abc/0"},
        "REDIS_URL is not valid: 'redis://127.0.0.1:abc/0' is not a URL (",
        id="redis-port",
    ),
    pytest.param(
        {"QDRANT_URL": "http://localhost:abc"},
        "QDRANT_URL is not valid: 'http://localhost:abc' is not a URL (",
        id="qdrant-port",
    ),
    pytest.param(
        {"QDRANT_URL": "http://qdrant host:6333"},
        "QDRANT_URL is not valid: 'http://qdrant host:6333' cannot be read (",
        id="qdrant-host",
    ),
    pytest.param(
        {"QDRANT_URL": "http://127.0.0.1:1"},
        "QDRANT_URL points to http://127.0.0.1:1, which did not answer (",
        id="qdrant-unreachable",
    ),
    pytest.param(
        {"DATA_DIR": "/proc/nope"},
        "The SQLite database folder /proc/nope cannot be created (",
        id="data-dir-missing",
    ),
    pytest.param(
        {"DATA_DIR": "/proc"},
        "The SQLite file /proc/app.db could not be opened (",
        id="data-dir-read-only",
    ),
    pytest.param(
        {"DATABASE_URL": "sqlite://", "DATA_DIR": "/proc/nope"},
        "The vector store folder /proc/nope/qdrant cannot be created (",
        id="qdrant-folder",
    ),
    pytest.param(
        {"ROUTER__DEFAULT_ROUTE": "gpt-4o"},
        "ROUTER__DEFAULT_ROUTE is not valid: 'gpt-4o' is not a JSON list;",
        id="route-not-json",
    ),
    pytest.param(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "garbage"},
        "OTEL_EXPORTER_OTLP_ENDPOINT is not valid: 'garbage' should start with one of http://",
        id="otlp-endpoint",
    ),
    pytest.param(
        {"AZURE_OPENAI_API_KEY": "k"},
        "AZURE_OPENAI_API_KEY is set but AZURE_OPENAI_ENDPOINT is not:",
        id="azure-key-only",
    ),
]
"""Each fails before any demo data is loaded, so a test of one costs a second or two."""

REDIS_URL_REDIS_PY_REJECTS = pytest.param(
    {"REDIS_URL": "redis://127.0.0.1:6379/0?socket_timeout=abc"},
    "REDIS_URL is not valid: 'redis://127.0.0.1:6379/0?socket_timeout=abc' cannot be read (",
    id="redis-query",
)
"""Only the app opens Redis (``python -m seed`` does not), so only the app refuses this one."""
