"""``POST /v1/traces``: the OTLP/HTTP trace receiver.

Protobuf or JSON, optionally gzip, at most ``ApiConfig.max_ingest_bytes`` once inflated. It
decodes off the event loop, straight into the store's rows (priced, GenAI attributes promoted),
and hands them to the store's span processor all at once: 200
(with ``partial_success`` for spans it left out), 400 for a body it cannot decode, 413 for one too
large, 415 for another content type, 429 over the client's rate limit and 503 when the store's
buffer is full, both with ``Retry-After``. Failures answer a JSON request in the API's error body
and a protobuf one with a ``google.rpc.Status``, as OTLP asks.
"""

from __future__ import annotations

import zlib

import anyio
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from observability.api.auth import Principal, bearer_token, require_scope
from observability.api.config import Scope
from observability.api.deps import count_request
from observability.api.errors import ApiError, ErrorCode, error_body, request_id_of
from observability.api.services import ApiServices
from observability.otlp import (
    DecodedBatch,
    Encoding,
    OtlpDecodeError,
    decode_request,
    encode_response,
    encoding_of,
)
from observability.otlp.decode import encode_status

BUSY_RETRY_S = 2
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}
_RPC_CODES = {400: 3, 401: 16, 403: 7, 413: 8, 415: 3, 429: 8, 503: 14}
"""google.rpc codes: INVALID_ARGUMENT, UNAUTHENTICATED, PERMISSION_DENIED, RESOURCE_EXHAUSTED,
UNAVAILABLE."""


def ingest_router(services: ApiServices) -> APIRouter:
    """The OTLP/HTTP receiver (scope ``ingest:write``)."""
    router = APIRouter(tags=["ingest"])

    @router.post(
        "/v1/traces",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/x-protobuf": {"schema": {"type": "string", "format": "binary"}},
                    "application/json": {"schema": {"type": "object"}},
                },
            }
        },
        responses={200: {"content": {"application/x-protobuf": {}, "application/json": {}}}},
    )
    async def export_traces(request: Request) -> Response:
        """Take an OTLP ``ExportTraceServiceRequest`` (protobuf or JSON, gzip allowed)."""
        encoding = encoding_of(request.headers.get("content-type")) or Encoding.JSON
        try:
            batch = await _receive(services, request)
        except ApiError as error:
            return _failure(request, encoding, error)
        return Response(encode_response(batch, encoding), media_type=str(encoding))

    return router


async def _receive(services: ApiServices, request: Request) -> DecodedBatch:
    encoding = encoding_of(request.headers.get("content-type"))
    _authorise(services, request)
    if encoding is None:
        raise ApiError(
            415,
            ErrorCode.UNSUPPORTED_MEDIA_TYPE,
            "Send OTLP traces as application/x-protobuf or application/json.",
        )
    body = await _read_body(request, services.config.max_ingest_bytes)
    try:
        batch, taken = await anyio.to_thread.run_sync(_decode_and_store, services, body, encoding)
    except OtlpDecodeError as exc:
        raise ApiError(400, ErrorCode.INVALID_REQUEST, str(exc)) from None
    if taken is None:
        problem = services.readiness.problem or "The trace store is starting."
        raise _busy(f"{problem} Send the spans again shortly.", ErrorCode.NOT_READY)
    if not taken:
        services.metrics.count_spans("refused", len(batch.rows))
        raise _busy(
            "The trace store's buffer is full; send the spans again shortly.",
            ErrorCode.STORE_BUSY,
        )
    services.metrics.count_spans("accepted", len(batch.rows))
    services.metrics.count_spans("rejected", batch.rejected)
    return batch


def _decode_and_store(
    services: ApiServices, body: bytes, encoding: Encoding
) -> tuple[DecodedBatch, bool | None]:
    """Decode the body (one trip off the event loop for all of this) and offer its rows to the
    store; once taken, publish the traces they complete. Whether they were taken, or ``None``
    while there is no store to take them."""
    batch = decode_request(body, encoding)
    sink = services.readiness.sink
    if sink is None:
        return batch, None
    if not batch.rows:
        return batch, True
    if not sink.offer_spans(batch.rows):
        return batch, False
    services.trace_events.observe_rows(batch.rows)
    return batch, True


def _authorise(services: ApiServices, request: Request) -> None:
    header = request.headers.get("authorization")
    client = request.client
    open_here = services.config.ingest_open_on_loopback and client is not None
    if header is None and open_here and client.host in _LOOPBACK:  # type: ignore[union-attr]
        return
    principal: Principal = services.issuer.check(bearer_token(header))
    require_scope(principal, Scope.INGEST_WRITE)
    count_request(services, request, principal)


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    gzip = request.headers.get("content-encoding", "identity").strip().lower()
    if gzip not in ("gzip", "identity", ""):
        raise ApiError(
            415, ErrorCode.UNSUPPORTED_MEDIA_TYPE,
            f"Content-Encoding {gzip!r} is not taken; send gzip or no encoding.",
        )  # fmt: skip
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzip == "gzip" else None
    parts: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            if inflate is not None:
                chunk = inflate.decompress(chunk, limit + 1 - size)
                if inflate.unconsumed_tail:
                    raise _too_large(limit)
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            parts.append(chunk)
        if inflate is not None and not inflate.eof:
            raise zlib.error("the gzip stream ends early")
    except zlib.error as exc:
        raise ApiError(
            400, ErrorCode.INVALID_REQUEST, f"The gzip body is broken ({exc})."
        ) from None
    return b"".join(parts)


def _too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        ErrorCode.PAYLOAD_TOO_LARGE,
        f"The body is larger than {limit // 1024} KiB once inflated; send fewer spans per request.",
        details={"limit_bytes": limit},
    )


def _busy(message: str, code: ErrorCode) -> ApiError:
    return ApiError(503, code, message, headers={"Retry-After": str(BUSY_RETRY_S)})


def _failure(request: Request, encoding: Encoding, error: ApiError) -> Response:
    if encoding is Encoding.PROTOBUF:
        body = encode_status(_RPC_CODES.get(error.status, 2), error.message)
        return Response(
            body, status_code=error.status, media_type=str(encoding), headers=error.headers
        )
    payload = error_body(request_id_of(request.scope), error.code, error.message, error.details)
    return JSONResponse(payload, status_code=error.status, headers=error.headers)
