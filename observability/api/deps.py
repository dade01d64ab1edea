"""FastAPI dependencies: the caller's token checked for a scope and counted against its tier."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from observability.api.auth import Principal, bearer_token, require_scope
from observability.api.config import Scope
from observability.api.services import ApiServices

bearer = HTTPBearer(auto_error=False, description="A token from POST /api/v1/auth/token.")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def authorized(services: ApiServices, scope: Scope) -> Any:
    """A dependency giving the ``Principal`` of a valid token with ``scope``, within its rate
    limit (the ``X-RateLimit-*`` headers go on the answer, whatever it is)."""

    def check(request: Request, credentials: Credentials) -> Principal:
        header = f"Bearer {credentials.credentials}" if credentials else None
        principal = services.issuer.check(bearer_token(header))
        require_scope(principal, scope)
        count_request(services, request, principal)
        return principal

    return Depends(check)


def count_request(services: ApiServices, request: Request, principal: Principal) -> None:
    """Count the request against the client's limit; 429 over it."""
    allowance = services.limits.hit(principal.client_id, principal.tier)
    request.state.rate_limit_headers = allowance.headers()
    if not allowance.allowed:
        raise allowance.refusal()
