"""Tokens, scopes, revocation and the one error body."""

from __future__ import annotations

import time

import jwt
import pytest

from observability.api import ClientError
from tests.api.conftest import ApiHarness


def _error(answer: object) -> dict[str, object]:
    body = answer.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "details", "request_id"}
    assert error["request_id"] == answer.headers["X-Request-ID"]  # type: ignore[attr-defined]
    return dict(error)


def test_token_exchange_gives_a_short_lived_bearer_token(harness: ApiHarness) -> None:
    made = harness.services.clients.create("dash", ["traces:read", "costs:read"])
    answer = harness.http.post(
        "/api/v1/auth/token",
        json={"client_id": made.client.client_id, "client_secret": made.secret},
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["scope"] == "traces:read costs:read"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == made.client.client_id
    assert claims["exp"] - claims["iat"] == 900


def test_wrong_secret_is_401_invalid_client(harness: ApiHarness) -> None:
    made = harness.services.clients.create("dash", ["traces:read"])
    answer = harness.http.post(
        "/api/v1/auth/token", json={"client_id": made.client.client_id, "client_secret": "nope"}
    )
    assert answer.status_code == 401
    assert _error(answer)["code"] == "invalid_client"


def test_secret_is_stored_hashed_only(harness: ApiHarness) -> None:
    made = harness.services.clients.create("dash", ["traces:read"])
    from observability.api.clients import api_clients

    with harness.services.clients._engine.connect() as conn:
        stored = conn.execute(api_clients.select()).mappings().one()
    assert made.secret not in str(dict(stored))
    assert stored["secret_hash"].startswith("scrypt$")


@pytest.mark.parametrize(
    ("header", "says"),
    [
        (None, "Send Authorization: Bearer"),
        ("Bearer not-a-jwt", "not one this server signed"),
        ("Basic abc", "Send Authorization: Bearer"),
    ],
)
def test_missing_or_bad_token_is_401(harness: ApiHarness, header: str | None, says: str) -> None:
    headers = {"Authorization": header} if header else {}
    answer = harness.http.get("/api/v1/traces", headers=headers)
    assert answer.status_code == 401
    error = _error(answer)
    assert error["code"] == "unauthenticated"
    assert says in str(error["message"])


def test_expired_token_is_401_with_a_sentence(harness: ApiHarness) -> None:
    made = harness.services.clients.create("dash", ["traces:read"])
    now = int(time.time())
    token = jwt.encode(
        {"sub": made.client.client_id, "scope": "traces:read", "iat": now - 100, "exp": now - 10,
         "iss": "support-observatory", "aud": "observatory-api"},
        b"k" * 32, algorithm="HS256",
    )  # fmt: skip
    answer = harness.http.get("/api/v1/traces", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401
    assert "expired" in str(_error(answer)["message"])


def test_token_signed_with_another_key_is_401(harness: ApiHarness) -> None:
    now = int(time.time())
    token = jwt.encode(
        {"sub": "oc_x", "scope": "traces:read", "iat": now, "exp": now + 60,
         "iss": "support-observatory", "aud": "observatory-api"},
        b"another key of enough length 1234", algorithm="HS256",
    )  # fmt: skip
    answer = harness.http.get("/api/v1/traces", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401


def test_under_scoped_token_is_403_naming_the_scope(harness: ApiHarness) -> None:
    answer = harness.http.get("/api/v1/traces", headers=harness.auth(("costs:read",)))
    assert answer.status_code == 403
    error = _error(answer)
    assert error["code"] == "forbidden"
    assert error["details"] == {"required_scope": "traces:read"}


def test_revoked_client_loses_its_tokens_and_its_secret(harness: ApiHarness) -> None:
    made = harness.services.clients.create("dash", ["traces:read"])
    credentials = {"client_id": made.client.client_id, "client_secret": made.secret}
    token = harness.http.post("/api/v1/auth/token", json=credentials).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert harness.http.get("/api/v1/traces", headers=headers).status_code == 200
    harness.services.clients.revoke(made.client.client_id)
    answer = harness.http.get("/api/v1/traces", headers=headers)
    assert answer.status_code == 401
    assert "revoked" in str(_error(answer)["message"])
    assert harness.http.post("/api/v1/auth/token", json=credentials).status_code == 401


def test_unknown_scope_or_tier_is_refused_with_a_sentence(harness: ApiHarness) -> None:
    with pytest.raises(ClientError, match="not a scope"):
        harness.services.clients.create("x", ["traces:write"])
    with pytest.raises(ClientError, match="not a tier"):
        harness.services.clients.create("x", ["traces:read"], "gold")


def test_unknown_path_answers_in_the_error_format(harness: ApiHarness) -> None:
    answer = harness.http.get("/api/v1/nowhere")
    assert answer.status_code == 404
    assert _error(answer)["code"] == "not_found"
