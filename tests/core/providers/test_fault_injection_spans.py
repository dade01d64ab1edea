"""Every attempt a fault broke in front of a real provider is a span in the trace store."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from core.faults import Fault, FaultKind, FaultPlan
from core.providers import ChatMessage, ChatRequest, create_providers
from core.router import Router
from core.settings import ProviderSettings, RouterSettings, Settings
from core.simulator import create_simulator_transport
from observability import Observatory, instrument_anthropic, instrument_openai
from observability.queries import TraceQueries
from observability.store import create_store_engine


def test_rate_limited_attempts_are_stored_as_failed_spans_before_the_fallback(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'traces.db'}"
    observatory = Observatory(store_url=url, export_interval_ms=50)
    tracing = observatory.tracer_provider
    network = create_simulator_transport(speed=0, seed=5)
    faults = FaultPlan()
    keys = ProviderSettings(
        openai_api_key=SecretStr("sk-test"), anthropic_api_key=SecretStr("sk-ant-test")
    )
    providers = create_providers(
        Settings(providers=keys),
        instrument_openai=lambda c: instrument_openai(c, tracer_provider=tracing),
        instrument_anthropic=lambda c: instrument_anthropic(c, tracer_provider=tracing),
        faults=faults,
        upstream=network,
        async_upstream=network,
    )
    router = Router(
        providers.by_name,
        RouterSettings(backoff_base_s=0, backoff_max_s=0),
        tracer_provider=tracing,
    )
    faults.add(Fault(FaultKind.RATE_LIMIT, provider="openai", times=2, retry_after_s=0))
    question = [ChatMessage(role="user", content="Where is my order ORD-10001?")]
    try:
        with observatory.span("demo") as root:
            routed = router.chat(
                ChatRequest(messages=question, model=""), ["gpt-4o", "claude-haiku-4-5"]
            )
        trace_id = format(root.get_span_context().trace_id, "032x")
        observatory.force_flush()
        spans = TraceQueries(create_store_engine(url)).trace_spans(trace_id)
    finally:
        observatory.shutdown()

    assert [a.outcome for a in routed.attempts] == ["failed", "failed", "ok"]
    assert routed.response.provider == "anthropic"
    attempts = spans[spans["name"].str.startswith("attempt ")]
    assert list(zip(attempts["name"], attempts["status"], strict=True)) == [
        ("attempt gpt-4o", "error"),
        ("attempt gpt-4o", "error"),
        ("attempt claude-haiku-4-5", "ok"),
    ]
    calls = spans[spans["operation"] == "chat"]
    assert list(calls["request_model"]) == ["gpt-4o", "gpt-4o", "claude-haiku-4-5-20251001"]
    assert [status == "error" for status in calls["status"]] == [True, True, False]
    assert list(calls["error_type"].fillna("")) == ["429", "429", ""]
