"""Simulated latency, paced in real time and held against the client's timeout.

Delays are simulated seconds (the catalogue's profile plus SLOW faults); ``speed`` turns them into
real sleeping (1 is real time, 0 never sleeps); under a simulated clock (``observability.clock``,
as in the demo history) they advance that clock instead. The client's read timeout travels with each
request (``request.extensions["timeout"]["read"]``, set by httpx2 from the SDK's ``timeout``)
and is held against simulated time, as a real transport holds it against the wire: when no byte
would arrive within it, ``httpx2.ReadTimeout`` is raised once the timeout has passed — scaled by
the same ``speed``, so at 0 a timeout happens at once and the outcome never depends on speed.
The SDKs turn that exception into ``openai.APITimeoutError`` / ``anthropic.APITimeoutError``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass

import httpx2

from core.simulator.wire import WireResponse
from observability.clock import current_clock

TIMEOUT_MESSAGE = "The simulated provider did not answer within the client's timeout."


@dataclass(frozen=True)
class Timed:
    """A response with its simulated delays in seconds: for a JSON body the wait for the first
    byte and the generation time, for a stream one delay before each chunk. ``hangs`` means the
    server never answers; the client gives up after ``delays[0]`` or its own timeout."""

    wire: WireResponse
    delays: tuple[float, ...]
    hangs: bool = False


def time_response(wire: WireResponse, first_s: float, per_token_s: float) -> Timed:
    """``wire`` paced as a model does: ``first_s`` to the first chunk, then ``per_token_s``
    for each generated token."""
    if not wire.streaming:
        return Timed(wire, (first_s, wire.output_tokens * per_token_s))
    delays = [chunk.tokens * per_token_s for chunk in wire.chunks]
    if delays:
        delays[0] += first_s
    return Timed(wire, tuple(delays))


def read_timeout(request: httpx2.Request) -> float | None:
    """The client's read timeout in seconds, or None when it waits for ever."""
    timeout = request.extensions.get("timeout")
    read = timeout.get("read") if isinstance(timeout, Mapping) else None
    return float(read) if read is not None else None


class Pacer:
    """Sleeps simulated seconds scaled by ``speed``, timing out where the client would."""

    def __init__(
        self,
        speed: float,
        sleep: Callable[[float], None],
        async_sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self.speed = max(0.0, speed)
        self._sleep = sleep
        self._async_sleep = async_sleep

    def settle(self, timed: Timed, request: httpx2.Request) -> None:
        """Wait until a JSON body is ready; raise ``ReadTimeout`` if the client gives up first."""
        seconds, times_out = _wait_for_body(timed, read_timeout(request))
        self.wait(seconds)
        if times_out:
            raise httpx2.ReadTimeout(TIMEOUT_MESSAGE, request=request)

    async def asettle(self, timed: Timed, request: httpx2.Request) -> None:
        """``settle`` for async clients."""
        seconds, times_out = _wait_for_body(timed, read_timeout(request))
        await self.await_(seconds)
        if times_out:
            raise httpx2.ReadTimeout(TIMEOUT_MESSAGE, request=request)

    def wait(self, seconds: float) -> None:
        """Sleep ``seconds`` of simulated time; under a simulated clock, advance it instead."""
        clock = current_clock()
        if clock is not None:
            clock.advance(seconds)
        elif seconds * self.speed > 0:
            self._sleep(seconds * self.speed)

    async def await_(self, seconds: float) -> None:
        """Await ``seconds`` of simulated time; under a simulated clock, advance it instead."""
        clock = current_clock()
        if clock is not None:
            clock.advance(seconds)
        elif seconds * self.speed > 0:
            await self._async_sleep(seconds * self.speed)


class PacedStream(httpx2.SyncByteStream, httpx2.AsyncByteStream):
    """A response body releasing each chunk after its delay; a delay longer than the client's
    read timeout raises ``ReadTimeout`` instead, as a stalled stream does."""

    def __init__(self, timed: Timed, pacer: Pacer, request: httpx2.Request) -> None:
        self._timed = timed
        self._pacer = pacer
        self._request = request
        self._limit = read_timeout(request)

    def __iter__(self) -> Iterator[bytes]:
        for chunk, delay in zip(self._timed.wire.chunks, self._timed.delays, strict=True):
            self._pacer.wait(self._allowed(delay))
            self._check(delay)
            yield chunk.data

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk, delay in zip(self._timed.wire.chunks, self._timed.delays, strict=True):
            await self._pacer.await_(self._allowed(delay))
            self._check(delay)
            yield chunk.data

    def _allowed(self, delay: float) -> float:
        return delay if self._limit is None else min(delay, self._limit)

    def _check(self, delay: float) -> None:
        if self._limit is not None and delay > self._limit:
            raise httpx2.ReadTimeout(TIMEOUT_MESSAGE, request=self._request)


def _wait_for_body(timed: Timed, limit: float | None) -> tuple[float, bool]:
    """Seconds to wait for a JSON body, and whether the client times out at the end of them."""
    needed = timed.delays[0] if timed.hangs else sum(timed.delays)
    if limit is not None and needed > limit:
        return limit, True
    return needed, timed.hangs
