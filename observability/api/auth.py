"""Bearer tokens: a client's id and secret exchanged for a short-lived HS256 JWT (PyJWT), and
the dependency that checks a token and its scope on every other endpoint."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import jwt

from observability.api.config import Scope, Tier
from observability.api.errors import ApiError, ErrorCode

ALGORITHM = "HS256"
ISSUER = "support-observatory"
AUDIENCE = "observatory-api"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the client behind a valid token, its scopes and tier."""

    client_id: str
    scopes: frozenset[Scope]
    tier: Tier


class TokenIssuer:
    """Signs and checks tokens with one key."""

    def __init__(self, key: bytes, ttl_s: int, *, is_revoked: Callable[[str], bool]) -> None:
        self._key = key
        self._ttl_s = ttl_s
        self._is_revoked = is_revoked

    @property
    def ttl_s(self) -> int:
        """How long a token lasts, in seconds."""
        return self._ttl_s

    def issue(self, client_id: str, scopes: tuple[Scope, ...], tier: Tier) -> str:
        """A token for the client, valid for ``ttl_s`` seconds."""
        now = int(time.time())
        claims = {
            "sub": client_id,
            "scope": " ".join(scopes),
            "tier": str(tier),
            "iat": now,
            "exp": now + self._ttl_s,
            "iss": ISSUER,
            "aud": AUDIENCE,
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def check(self, token: str) -> Principal:
        """The principal of a valid token; ``ApiError`` 401 otherwise."""
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["exp", "sub", "iat"]},
            )
        except jwt.ExpiredSignatureError:
            raise unauthenticated(
                "The token has expired; ask POST /api/v1/auth/token for a new one."
            ) from None
        except jwt.InvalidTokenError:
            raise unauthenticated(
                "The token is not one this server signed; ask POST /api/v1/auth/token for one."
            ) from None
        client_id = str(claims["sub"])
        if self._is_revoked(client_id):
            raise unauthenticated(f"API client {client_id} has been revoked.")
        scopes = frozenset(Scope(s) for s in str(claims.get("scope", "")).split() if s in _SCOPES)
        try:
            tier = Tier(claims.get("tier", Tier.FREE))
        except ValueError:
            tier = Tier.FREE
        return Principal(client_id, scopes, tier)


_SCOPES = {s.value for s in Scope}


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer …`` header; ``ApiError`` 401 without one."""
    if not authorization:
        raise unauthenticated(
            "Send Authorization: Bearer <token>; POST /api/v1/auth/token gives a token."
        )
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthenticated("The Authorization header must be 'Bearer <token>'.")
    return token.strip()


def require_scope(principal: Principal, scope: Scope) -> None:
    """``ApiError`` 403 unless the principal has ``scope``."""
    if scope not in principal.scopes:
        raise ApiError(
            403,
            ErrorCode.FORBIDDEN,
            f"This client's token does not carry the {scope} scope that this endpoint needs.",
            details={"required_scope": str(scope)},
        )


def unauthenticated(message: str) -> ApiError:
    """A 401 with the header that says how to authenticate."""
    return ApiError(401, ErrorCode.UNAUTHENTICATED, message, headers={"WWW-Authenticate": "Bearer"})
