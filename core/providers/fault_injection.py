"""Faults on cue in front of a real provider: an httpx2 transport wrapping the real one.

The factory hands it to the official SDK clients of a provider that has a key, so the demo
controls and the scenarios work online too. Each chat or embeddings request draws from the
app's one ``FaultPlan``; when nothing fires the request goes to the real transport untouched.
Otherwise the answer is what the simulator would give (``core.simulator.effects``), in the
provider's own error shape:

    rate_limit        429 with retry-after, never sent upstream
    server_error      the fault's 5xx, never sent upstream
    timeout           ``httpx2.ReadTimeout`` after ``delay_s`` or the client's read timeout
    slow              ``delay_s`` before the request goes on (past the client's timeout: timeout)
    malformed_json    the real answer with its JSON-mode content cut (OpenAI ``response_format``),
                      else its body cut in half, or an unfinished event in its stream
    schema_violation  the real answer without the fields that carry it
    stream_cut        the real answer dropped after ``CUT_AFTER_EVENTS`` events (a JSON body:
                      after half its bytes), as ``httpx2.RemoteProtocolError``

Delays run on the app clock (``observability.clock``): a simulated clock advances instead.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass

import httpx2

from core.faults import Fault, FaultKind, FaultPlan
from core.providers.catalogue import get_model
from core.providers.errors import UnknownModel
from core.simulator import anthropic_wire, effects, openai_wire
from core.simulator.pacing import Pacer, Timed
from core.simulator.routes import Operation, route_of
from core.simulator.wire import IdSource, WireResponse

CUT_AFTER_EVENTS = 8
"""Server-sent events of a real stream let through before a STREAM_CUT drops it (the
simulator, knowing the whole answer, cuts it at half)."""
_ERRORS = (FaultKind.RATE_LIMIT, FaultKind.SERVER_ERROR)
_NO_BODY = ("content-encoding", "content-length", "transfer-encoding")
_NOTHING = WireResponse(200, ())


@dataclass(frozen=True)
class _Drawn:
    failure: Fault | None
    extra_delay_s: float
    model: str


class FaultInjectingTransport(httpx2.BaseTransport, httpx2.AsyncBaseTransport):
    """Draws each request's faults from ``faults`` for ``provider``; passes the rest to
    ``sync_inner`` / ``async_inner`` (the real network transports)."""

    def __init__(
        self,
        *,
        faults: FaultPlan,
        provider: str,
        sync_inner: httpx2.BaseTransport,
        async_inner: httpx2.AsyncBaseTransport,
        deployments: Mapping[str, str],
        sleep: Callable[[float], None] = time.sleep,
        async_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.faults = faults
        self.provider = provider
        self._sync = sync_inner
        self._async = async_inner
        self._deployments = dict(deployments)
        self._pacer = Pacer(1.0, sleep, async_sleep)
        self._ids = IdSource(0)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """Answer from the fault that fires, or from the real provider."""
        request.read()
        drawn = self._draw(request)
        if drawn is None:
            return self._sync.handle_request(request)
        self._pacer.settle(_waiting(drawn), request)
        if drawn.failure is not None and drawn.failure.kind in _ERRORS:
            return self._error(drawn.failure, drawn.model, request)
        response = self._sync.handle_request(request)
        if drawn.failure is None or response.status_code >= 400:
            return response
        if drawn.failure.kind is FaultKind.STREAM_CUT and _streaming(response):
            return _cut_live(response, response.iter_bytes(), request)
        response.read()
        return _broken(drawn.failure, response, request)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """``handle_request`` for async clients."""
        await request.aread()
        drawn = self._draw(request)
        if drawn is None:
            return await self._async.handle_async_request(request)
        await self._pacer.asettle(_waiting(drawn), request)
        if drawn.failure is not None and drawn.failure.kind in _ERRORS:
            return self._error(drawn.failure, drawn.model, request)
        response = await self._async.handle_async_request(request)
        if drawn.failure is None or response.status_code >= 400:
            return response
        if drawn.failure.kind is FaultKind.STREAM_CUT and _streaming(response):
            return _cut_live(response, response.aiter_bytes(), request)
        await response.aread()
        return _broken(drawn.failure, response, request)

    def close(self) -> None:
        """Close the real transport."""
        self._sync.close()

    async def aclose(self) -> None:
        """Close the real async transport."""
        await self._async.aclose()

    def _draw(self, request: httpx2.Request) -> _Drawn | None:
        """The faults that fire for a chat or embeddings request; None when none does (or the
        request is something else, such as counting tokens)."""
        route = route_of(request.url.path)
        if route is None or route.operation is Operation.COUNT_TOKENS:
            return None
        if not self.faults.pending():
            return None  # the usual case: nothing armed, so the body need not be read
        try:
            body = json.loads(request.content or b"{}")
        except ValueError:
            return None
        if not isinstance(body, dict):
            return None
        model = route.deployment or str(body.get("model", ""))
        outcome = self.faults.draw(self.provider, self._names(model))
        if outcome.failure is None and outcome.extra_delay_s == 0:
            return None
        return _Drawn(outcome.failure, outcome.extra_delay_s, model)

    def _names(self, model: str) -> frozenset[str]:
        """Every name a fault may target the call by: as sent, the catalogue's, the
        deployment's model."""
        names = {model}
        if model in self._deployments:
            names.add(self._deployments[model])
        with suppress(UnknownModel):
            names.add(get_model(model).name)
        return frozenset(names)

    def _error(self, fault: Fault, model: str, request: httpx2.Request) -> httpx2.Response:
        render = (
            anthropic_wire.render_error
            if self.provider == "anthropic"
            else openai_wire.render_error
        )
        status, message, headers = effects.error_answer(fault, model)
        wire = render(status, message, self._ids, headers)
        content = b"".join(chunk.data for chunk in wire.chunks)
        return httpx2.Response(status, headers=wire.headers, content=content, request=request)


def create_fault_injector(
    faults: FaultPlan,
    provider: str,
    *,
    deployments: Mapping[str, str] | None = None,
    upstream: httpx2.BaseTransport | None = None,
    async_upstream: httpx2.AsyncBaseTransport | None = None,
) -> FaultInjectingTransport:
    """A fault-injecting transport for ``provider`` in front of the network (or of
    ``upstream`` / ``async_upstream``, e.g. an ``httpx2.MockTransport`` in tests)."""
    return FaultInjectingTransport(
        faults=faults,
        provider=provider,
        sync_inner=upstream or httpx2.HTTPTransport(),
        async_inner=async_upstream or httpx2.AsyncHTTPTransport(),
        deployments=deployments or {},
    )


def _waiting(drawn: _Drawn) -> Timed:
    """The wait before anything comes: a TIMEOUT hangs for its ``delay_s``, SLOW waits."""
    if drawn.failure is not None and drawn.failure.kind is FaultKind.TIMEOUT:
        return Timed(_NOTHING, (drawn.failure.delay_s + drawn.extra_delay_s,), hangs=True)
    return Timed(_NOTHING, (drawn.extra_delay_s, 0.0))


def _streaming(response: httpx2.Response) -> bool:
    return response.headers.get("content-type", "").startswith("text/event-stream")


def _headers(response: httpx2.Response) -> dict[str, str]:
    """The real answer's headers without those describing the body as it came over the wire
    (it is passed on decoded)."""
    return {k: v for k, v in response.headers.items() if k.lower() not in _NO_BODY}


def _cut_live(
    response: httpx2.Response,
    body: Iterable[bytes] | AsyncIterable[bytes],
    request: httpx2.Request,
) -> httpx2.Response:
    stream = effects.CutStream(body, CUT_AFTER_EVENTS, request, upstream=response)
    return httpx2.Response(
        response.status_code, headers=_headers(response), stream=stream, request=request
    )


def _broken(fault: Fault, response: httpx2.Response, request: httpx2.Request) -> httpx2.Response:
    """The real answer (read) broken by a MALFORMED_JSON, SCHEMA_VIOLATION or STREAM_CUT."""
    headers = _headers(response)
    content = response.content
    if fault.kind is FaultKind.STREAM_CUT:
        stream = effects.CutStream([content], 1, request, events=False)
        return httpx2.Response(
            response.status_code, headers=headers, stream=stream, request=request
        )
    if fault.kind is FaultKind.SCHEMA_VIOLATION:
        content = effects.strip_envelope(content)
    elif _streaming(response):
        events = content.split(b"\n\n")
        at = effects.BROKEN_AFTER
        content = b"\n\n".join([*events[:at], effects.BROKEN_EVENT, *events[at:]])
    else:
        content = _malformed_body(content, request)
    return httpx2.Response(response.status_code, headers=headers, content=content, request=request)


def _malformed_body(content: bytes, request: httpx2.Request) -> bytes:
    """An OpenAI JSON-mode answer with its content cut (the envelope parses, the answer does
    not); any other body cut in half."""
    try:
        asked = json.loads(request.content or b"{}")
        answer = json.loads(content)
        message = answer["choices"][0]["message"]
    except (ValueError, KeyError, IndexError, TypeError):
        return effects.cut_json(content)
    if not asked.get("response_format") or not isinstance(message.get("content"), str):
        return effects.cut_json(content)
    message["content"] = effects.truncate_json(message["content"])
    return json.dumps(answer).encode()
