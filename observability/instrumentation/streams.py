"""Proxies around SDK streams: the span ends when the stream is exhausted, closed or fails.

The proxy hands every chunk to a recorder (time to first chunk, usage, finish reasons) and
passes iteration, ``with``, ``close()`` and any other attribute through to the SDK stream.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from observability import attributes as attr
from observability import clock
from observability.instrumentation._common import (
    Attributes,
    Call,
    Recorder,
    fail_call,
    finish_call,
    safely,
)


class _StreamSpan:
    """The span bookkeeping both proxies share."""

    def __init__(self, inner: Any, call: Call, recorder: Recorder) -> None:
        self._inner = inner
        self._call = call
        self._recorder = recorder
        self._first_chunk_at: float | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def _keep(self, chunk: Any) -> bool:
        if self._first_chunk_at is None:
            self._first_chunk_at = clock.perf_counter()
        shown = safely(self._recorder.observe, chunk)
        return shown is not False

    def _response(self) -> Attributes:
        response = safely(self._recorder.attributes) or {}
        if self._first_chunk_at is not None:
            ttft = self._first_chunk_at - self._call.started
            response[attr.RESPONSE_TIME_TO_FIRST_CHUNK] = ttft
        return response

    def _end(self, *, closed_early: bool = False) -> None:
        if self._call.ended:
            return
        response = self._response()
        if closed_early:
            response[attr.STREAM_CLOSED_EARLY] = True
        safely(finish_call, self._call, response)

    def _fail(self, exc: BaseException) -> None:
        if not self._call.ended:
            fail_call(self._call, exc, self._response())


class TracedStream(_StreamSpan):
    """A sync SDK stream whose span ends with the stream."""

    def __iter__(self) -> TracedStream:
        return self

    def __next__(self) -> Any:
        while True:
            try:
                chunk = next(self._inner)
            except StopIteration:
                self._end()
                raise
            except BaseException as exc:
                self._fail(exc)
                raise
            if self._keep(chunk):
                return chunk

    def __enter__(self) -> TracedStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the SDK stream (releasing the connection) and end the span."""
        try:
            self._inner.close()
        finally:
            self._end(closed_early=True)


class AsyncTracedStream(_StreamSpan):
    """An async SDK stream whose span ends with the stream."""

    def __aiter__(self) -> AsyncTracedStream:
        return self

    async def __anext__(self) -> Any:
        while True:
            try:
                chunk = await self._inner.__anext__()
            except StopAsyncIteration:
                self._end()
                raise
            except BaseException as exc:
                self._fail(exc)
                raise
            if self._keep(chunk):
                return chunk

    async def __aenter__(self) -> AsyncTracedStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the SDK stream (releasing the connection) and end the span."""
        try:
            await self._inner.close()
        finally:
            self._end(closed_early=True)

    async def aclose(self) -> None:
        """Same as ``close()``."""
        await self.close()
