"""Scripted providers, a fake clock and an in-memory span exporter for router tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from core.errors import ProviderError
from core.providers.base import ChatChunk, ChatRequest, ChatResponse
from core.providers.catalogue import get_model
from core.router import Router
from core.settings import RouterSettings


@dataclass
class MidStream:
    """Yield ``text`` as one chunk, then fail with ``error``."""

    text: str
    error: ProviderError


Step = str | ProviderError | MidStream


def reply(model: str, text: str) -> ChatResponse:
    return ChatResponse(
        text, [], model, get_model(model).provider, 10, len(text.split()), 0, "stop", True
    )


class ScriptedProvider:
    """Answers each model from a script: a text, an error to raise, or a mid-stream failure.

    Script keys are model names with ``-`` and ``.`` written ``_`` (``gpt_3_5_turbo``); the
    last step repeats.
    """

    def __init__(self, name: str, tracer_provider: TracerProvider, **script: list[Step]) -> None:
        self.name = name
        self.simulated = True
        self.script = {model.replace("_", "-"): steps for model, steps in script.items()}
        self.calls: list[str] = []
        self._tracer = tracer_provider.get_tracer("fake.client")

    def serves(self, model: str) -> bool:
        return get_model(model).provider == self.name

    def chat(self, request: ChatRequest) -> ChatResponse:
        step = self._next(request)
        with self._tracer.start_as_current_span(f"chat {request.model}"):
            if isinstance(step, ProviderError):
                raise step
            assert isinstance(step, str)
            return reply(request.model, step)

    def stream(self, request: ChatRequest) -> Iterator[ChatChunk | ChatResponse]:
        step = self._next(request)
        span = self._tracer.start_span(f"chat {request.model}")
        try:
            if isinstance(step, ProviderError):
                raise step
            if isinstance(step, MidStream):
                yield ChatChunk(step.text)
                raise step.error
            for word in step.split(" "):
                yield ChatChunk(word + " ")
            yield reply(request.model, step)
        finally:
            span.end()

    def _next(self, request: ChatRequest) -> Step:
        self.calls.append(request.model)
        steps = self.script.get(request.model.replace(".", "-")) or ["fine"]
        return steps.pop(0) if len(steps) > 1 else steps[0]


@dataclass
class FakeClock:
    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class Harness:
    clock: FakeClock
    exporter: InMemorySpanExporter
    tracer_provider: TracerProvider

    def router(self, *providers: ScriptedProvider, **settings: Any) -> Router:
        options: dict[str, Any] = {
            "max_attempts_per_model": 2,
            "backoff_base_s": 0.5,
            "backoff_max_s": 8.0,
            "breaker_failure_threshold": 3,
            "breaker_reset_s": 30.0,
            **settings,
        }
        return Router(
            {p.name: p for p in providers},
            RouterSettings(**options),
            clock=self.clock,
            sleep=self.clock.sleep,
            random=lambda: 0.5,
            tracer_provider=self.tracer_provider,
        )

    def provider(self, name: str, **script: list[Step]) -> ScriptedProvider:
        return ScriptedProvider(name, self.tracer_provider, **script)


@pytest.fixture
def harness() -> Harness:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    return Harness(FakeClock(), exporter, tracer_provider)
