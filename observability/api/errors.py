"""One error body for every answer that is not a success, and the catalogue of its codes.

``{"error": {"code": "...", "message": "...", "details": {...}, "request_id": "..."}}``: the code is
one of ``ErrorCode`` (listed in the README), the message a sentence the caller can act on,
``request_id`` the id also sent in the ``X-Request-ID`` header (taken from the request's own
header when it has one).
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Scope

logger = logging.getLogger("observability.api")

REQUEST_ID_HEADER = "X-Request-ID"


class ErrorCode(StrEnum):
    """Every ``error.code`` the API answers with."""

    INVALID_REQUEST = "invalid_request"
    """400/422: a parameter or body the API cannot use; ``details`` names each one."""
    UNAUTHENTICATED = "unauthenticated"
    """401: no bearer token, or one that is malformed, expired or signed with another key."""
    INVALID_CLIENT = "invalid_client"
    """401: the client id and secret do not match an active API client."""
    FORBIDDEN = "forbidden"
    """403: the token lacks the scope the endpoint needs (``details.required_scope``)."""
    NOT_FOUND = "not_found"
    """404: no such trace, export or path."""
    METHOD_NOT_ALLOWED = "method_not_allowed"
    """405: the path exists but not with this method."""
    CONFLICT = "conflict"
    """409: the export is not in a state that allows this (not finished, already over)."""
    PAYLOAD_TOO_LARGE = "payload_too_large"
    """413: the request body (after gzip) is larger than the ingest limit."""
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    """415: a body in a content type or encoding the endpoint does not take."""
    RATE_LIMITED = "rate_limited"
    """429: the client's tier allows no more requests now; wait ``Retry-After`` seconds."""
    STORE_BUSY = "store_busy"
    """503: the trace store's buffer is full; send again after ``Retry-After`` seconds."""
    STORE_UNAVAILABLE = "store_unavailable"
    """503: the trace store did not answer the query."""
    NOT_READY = "not_ready"
    """503: the app is still starting (or could not start; ``message`` says why)."""
    INTERNAL = "internal_error"
    """500: a fault on our side; the log holds the request id."""


_STATUS_CODES: dict[int, ErrorCode] = {
    400: ErrorCode.INVALID_REQUEST,
    401: ErrorCode.UNAUTHENTICATED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    409: ErrorCode.CONFLICT,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    422: ErrorCode.INVALID_REQUEST,
    429: ErrorCode.RATE_LIMITED,
    503: ErrorCode.NOT_READY,
}


class ApiError(Exception):
    """An answer other than success: status, code, one sentence, optional details and headers."""

    def __init__(
        self,
        status: int,
        code: ErrorCode,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}
        self.headers = headers or {}


def error_body(
    request_id: str, code: ErrorCode, message: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The one error body."""
    return {
        "error": {
            "code": str(code),
            "message": message,
            "details": details or {},
            "request_id": request_id,
        }
    }


def request_id_of(scope: Scope) -> str:
    """The id given to this request by ``ApiMiddleware``."""
    state = scope.get("state") or {}
    return str(state.get("request_id", ""))


def error_response(request: Request, error: ApiError) -> JSONResponse:
    """``error`` as a JSON answer with its headers."""
    body = error_body(request_id_of(request.scope), error.code, error.message, error.details)
    return JSONResponse(body, status_code=error.status, headers=error.headers)


def install_error_handlers(api: FastAPI) -> None:
    """Every failure, ours or the framework's, answers in the one error body."""

    async def on_api_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return error_response(request, exc)

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = _STATUS_CODES.get(exc.status_code, ErrorCode.INVALID_REQUEST)
        message = _HTTP_MESSAGES.get(exc.status_code, str(exc.detail))
        return error_response(request, ApiError(exc.status_code, code, message))

    async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        problems = [
            {"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in exc.errors()
        ]
        fields = ", ".join(p["field"] for p in problems) or "the request"
        error = ApiError(
            422,
            ErrorCode.INVALID_REQUEST,
            f"Some of the request cannot be used ({fields}); see details.",
            details={"problems": problems},
        )
        return error_response(request, error)

    async def on_crash(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("request %s failed", request_id_of(request.scope))
        error = ApiError(
            500,
            ErrorCode.INTERNAL,
            "Something failed on our side; the log has this request's id.",
        )
        return error_response(request, error)

    api.add_exception_handler(ApiError, on_api_error)
    api.add_exception_handler(StarletteHTTPException, on_http_error)
    api.add_exception_handler(RequestValidationError, on_validation_error)
    api.add_exception_handler(Exception, on_crash)


_HTTP_MESSAGES = {
    404: "There is nothing at this path; /api/docs lists the endpoints.",
    405: "This path does not take this method; /api/docs lists the methods it takes.",
}
