"""The simulator as an httpx2 transport: routing, faults, composition and real-time pacing.

Hand it to the official SDKs through ``http_client=httpx2.Client(transport=...)`` (or
``httpx2.AsyncClient``). Paths served::

    POST /v1/chat/completions                           OpenAI chat (JSON or SSE)
    POST /v1/embeddings                                 OpenAI embeddings
    POST /openai/deployments/{d}/chat/completions       Azure OpenAI chat
    POST /openai/deployments/{d}/embeddings             Azure OpenAI embeddings
    POST /v1/messages                                   Anthropic messages (JSON or SSE)
    POST /v1/messages/count_tokens                      Anthropic token count

Prompt caching is billed as the providers do (see ``caching``). Latency follows the catalogue
profile (time to first chunk, then tokens per second, with jitter), multiplied by ``speed``:
1 is real time, 0 never sleeps. A response slower than the client's read timeout raises
``httpx2.ReadTimeout`` when the timeout has passed (see ``pacing``).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import httpx2
import numpy as np

from core.faults import Fault, FaultKind, FaultPlan
from core.simulator import anthropic_wire, effects, openai_wire
from core.simulator.caching import PromptCache
from core.simulator.composer import compose_reply
from core.simulator.messages import Provider
from core.simulator.pacing import PacedStream, Pacer, Timed, time_response
from core.simulator.profiles import ModelNotFound, ModelProfile, resolve_model
from core.simulator.recorder import RequestRecorder
from core.simulator.routes import Operation, Route, route_of
from core.simulator.values import STORE_ZONE
from core.simulator.wire import IdSource, WireResponse

Embedder = Callable[[Sequence[str]], np.ndarray]
_FAILED_CALLS = (FaultKind.RATE_LIMIT, FaultKind.SERVER_ERROR, FaultKind.TIMEOUT)
"""Faults answered with an error instead of the composed reply."""


class SimulatorTransport(httpx2.BaseTransport, httpx2.AsyncBaseTransport):
    """An offline stand-in for the OpenAI, Azure OpenAI and Anthropic HTTP APIs."""

    def __init__(
        self,
        *,
        speed: float,
        seed: int,
        faults: FaultPlan | None,
        recorder: RequestRecorder | None,
        deployments: Mapping[str, str],
        embedder: Embedder | None,
        sleep: Callable[[float], None],
        async_sleep: Callable[[float], Awaitable[None]],
        today: Callable[[], date],
    ) -> None:
        self.seed = seed
        self.faults = faults if faults is not None else FaultPlan(seed=seed)
        self.recorder = recorder if recorder is not None else RequestRecorder()
        self._deployments = dict(deployments)
        self._embedder = embedder
        self._pacer = Pacer(speed, sleep, async_sleep)
        self._today = today
        self._ids = IdSource(seed)
        self._cache = PromptCache()
        self._timing = random.Random(f"timing:{seed}")
        self._timing_lock = threading.Lock()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """Answer one request from a sync client, sleeping for the simulated latency."""
        request.read()
        timed, cut = self._answer(request)
        if not timed.wire.streaming:
            self._pacer.settle(timed, request)
        return self._response(timed, request, cut)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """Answer one request from an async client, awaiting the simulated latency."""
        await request.aread()
        timed, cut = self._answer(request)
        if not timed.wire.streaming:
            await self._pacer.asettle(timed, request)
        return self._response(timed, request, cut)

    def _response(self, timed: Timed, request: httpx2.Request, cut: bool) -> httpx2.Response:
        """The response; ``cut`` (a STREAM_CUT fault) drops the connection halfway through."""
        wire = timed.wire
        if wire.streaming:
            paced = PacedStream(timed, self._pacer, request)
            keep = max(1, len(wire.chunks) // 2)
            stream = effects.CutStream(paced, keep, request) if cut else paced
            return httpx2.Response(
                wire.status, headers=wire.headers, stream=stream, request=request
            )
        content = b"".join(chunk.data for chunk in wire.chunks)
        if cut:
            body = effects.CutStream([content], 1, request, events=False)
            return httpx2.Response(wire.status, headers=wire.headers, stream=body, request=request)
        return httpx2.Response(wire.status, headers=wire.headers, content=content, request=request)

    def _answer(self, request: httpx2.Request) -> tuple[Timed, bool]:
        """The timed response, and whether a STREAM_CUT fault breaks it off."""
        route = route_of(request.url.path)
        if route is None:
            message = f"No simulated API at {request.url.path}."
            return self._instant(404, Provider.OPENAI, message), False
        try:
            body = json.loads(request.content or b"{}")
        except ValueError:
            return self._instant(400, route.provider, "The request body is not valid JSON."), False
        headers = {key: value for key, value in request.headers.items()}
        self.recorder.record(request.method, request.url.path, headers, body)
        model = route.deployment or str(body.get("model", ""))
        try:
            profile = resolve_model(model, route.provider, self._deployments)
        except ModelNotFound:
            return Timed(self._model_not_found(route, model), (0.0,)), False
        if route.operation is Operation.COUNT_TOKENS:
            return Timed(anthropic_wire.render_count(body, profile.name), (0.0,)), False
        if (route.operation is Operation.EMBEDDINGS) != (profile.kind == "embedding"):
            wanted = "an embedding" if route.operation is Operation.EMBEDDINGS else "a chat"
            message = f"`{model}` is not {wanted} model; pick one from the catalogue."
            return self._instant(400, route.provider, message), False
        names = frozenset({model, profile.name, profile.response_model})
        outcome = self.faults.draw(route.provider.value, names)
        failure = outcome.failure
        if failure is not None and failure.kind in _FAILED_CALLS:
            return self._failure(failure, route, profile, outcome.extra_delay_s), False
        cut = failure is not None and failure.kind is FaultKind.STREAM_CUT
        wire = self._render(route, body, profile, None if cut else failure)
        return self._timed(wire, profile, outcome.extra_delay_s), cut

    def _render(
        self, route: Route, body: dict[str, Any], profile: ModelProfile, fault: Fault | None
    ) -> WireResponse:
        if route.operation is Operation.EMBEDDINGS:
            vectors = self._embed(openai_wire.parse_embedding_inputs(body))
            return openai_wire.render_embeddings(
                body,
                vectors,
                model=profile.response_model,
                native=profile.embedding_dimensions,
                ids=self._ids,
            )
        if route.provider is Provider.ANTHROPIC:
            request = anthropic_wire.parse_messages(body)
        else:
            request = openai_wire.parse_chat(body, route.provider)
        rng = random.Random(f"{self.seed}:{_digest(body)}")
        reply = compose_reply(request, today=self._today(), rng=rng)
        if fault is not None and effects.affects_content(fault.kind, request, reply):
            reply = effects.break_content(fault.kind, request, reply)
            fault = None
        model = profile.response_model
        if route.provider is Provider.ANTHROPIC:
            cache = self._cache.anthropic_use(model, body)
            uncached = anthropic_wire.input_tokens(body, model) - cache.read - cache.created
            wire = anthropic_wire.render_message(
                request,
                reply,
                model=model,
                ids=self._ids,
                input_count=max(0, uncached),
                cache_read=cache.read,
                cache_creation=cache.created,
            )
        else:
            tokens = openai_wire.prompt_tokens(body, model)
            cached = self._cache.openai_use(model, body).read
            wire = openai_wire.render_chat(
                request,
                reply,
                model=model,
                ids=self._ids,
                input_tokens=tokens,
                cached_tokens=cached,
            )
        return wire if fault is None else effects.break_envelope(fault.kind, wire)

    def _embed(self, texts: list[str]) -> np.ndarray:
        if self._embedder is None:
            from core.kb.embedder import get_local_embedder

            self._embedder = get_local_embedder().embed
        return np.asarray(self._embedder(texts), dtype=np.float32)

    def _failure(self, fault: Fault, route: Route, profile: ModelProfile, extra_s: float) -> Timed:
        render = anthropic_wire.render_error if route.anthropic else openai_wire.render_error
        if fault.kind is FaultKind.TIMEOUT:
            empty = render(504, "timeout", self._ids)
            return Timed(empty, (fault.delay_s + extra_s,), hangs=True)
        status, message, headers = effects.error_answer(fault, profile.name)
        wire = render(status, message, self._ids, headers)
        return Timed(wire, (extra_s + profile.ttft_ms / 4000,))

    def _model_not_found(self, route: Route, model: str) -> WireResponse:
        if route.anthropic:
            return anthropic_wire.render_error(404, f"model: {model}", self._ids)
        return openai_wire.render_model_not_found(
            model, self._ids, azure=route.deployment is not None
        )

    def _instant(self, status: int, provider: Provider, message: str) -> Timed:
        render = (
            anthropic_wire.render_error
            if provider is Provider.ANTHROPIC
            else openai_wire.render_error
        )
        return Timed(render(status, message, self._ids), (0.0,))

    def _timed(self, wire: WireResponse, profile: ModelProfile, extra_s: float) -> Timed:
        with self._timing_lock:
            first = profile.first_chunk_s(self._timing) + extra_s
            per_token = profile.per_token_s(self._timing)
        return time_response(wire, first, per_token)


def create_simulator_transport(
    *,
    speed: float,
    seed: int,
    faults: FaultPlan | None = None,
    recorder: RequestRecorder | None = None,
    deployments: Mapping[str, str] | None = None,
    embedder: Embedder | None = None,
    sleep: Callable[[float], None] = time.sleep,
    async_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    today: Callable[[], date] | None = None,
) -> SimulatorTransport:
    """An httpx2 transport answering like OpenAI, Azure OpenAI and Anthropic, offline.

    ``speed`` scales simulated latency (1 = the catalogue's real-time profile, 0 = no sleeping);
    ``seed`` makes answers reproducible (same request + seed → same answer); ``faults`` injects
    failures; ``recorder`` keeps every request body; ``deployments`` maps Azure deployment names
    to catalogue models; ``embedder`` turns texts into vectors (default: the local
    all-MiniLM-L6-v2 model, loaded on first use); ``sleep``/``async_sleep``/``today`` are
    injectable for tests.
    """
    return SimulatorTransport(
        speed=speed,
        seed=seed,
        faults=faults,
        recorder=recorder,
        deployments=deployments or {},
        embedder=embedder,
        sleep=sleep,
        async_sleep=async_sleep,
        today=today or _store_today,
    )


def _digest(body: dict[str, Any]) -> str:
    """Hash of the request without its delivery options, so streaming or not answers alike."""
    content = {k: v for k, v in body.items() if k not in ("stream", "stream_options")}
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _store_today() -> date:
    return datetime.now(STORE_ZONE).date()
