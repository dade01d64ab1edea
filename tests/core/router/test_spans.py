"""One ``route`` span, one ``attempt`` span per call (failed ones included), client spans inside."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from core.providers.base import ChatMessage, ChatRequest
from core.providers.errors import (
    AllProvidersFailed,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
)
from tests.core.router.conftest import Harness, MidStream

ROUTE = ["gpt-4", "claude-3-sonnet", "gpt-3.5-turbo"]
REQUEST = ChatRequest("gpt-4", [ChatMessage("user", "Hi")])


def by_name(harness: Harness) -> dict[str, list[ReadableSpan]]:
    spans: dict[str, list[ReadableSpan]] = {}
    for span in harness.exporter.get_finished_spans():
        spans.setdefault(span.name, []).append(span)
    return spans


def parent_of(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent else None


def test_attempt_spans_sit_under_one_route_span_with_fallback_reasons(harness: Harness) -> None:
    openai = harness.provider("openai", gpt_4=[ProviderUnavailable("boom")])
    anthropic = harness.provider("anthropic", claude_3_sonnet=["Hello."])
    router = harness.router(openai, anthropic)

    router.chat(REQUEST, ROUTE, name="default")

    spans = by_name(harness)
    (route,) = spans["route default"]
    assert route.attributes is not None and route.attributes["observatory.route"] == "default"
    attempts = sorted(
        spans["attempt gpt-4"] + spans["attempt claude-3-sonnet"],
        key=lambda s: s.attributes["observatory.attempt"] if s.attributes else 0,
    )
    assert [parent_of(s) for s in attempts] == [route.context.span_id] * 3
    first, second, last = (dict(s.attributes or {}) for s in attempts)
    assert first["observatory.attempt"] == 1
    assert first["gen_ai.request.model"] == "gpt-4"
    assert first["observatory.fallback.reason"] == "server_error"
    assert first["error.type"] == "ProviderUnavailable"
    assert attempts[0].status.status_code is StatusCode.ERROR
    assert second["observatory.attempt"] == 2 and second["observatory.backoff_s"] == 0.375
    assert last["gen_ai.provider.name"] == "anthropic"
    assert "observatory.fallback.reason" not in last and "error.type" not in last
    assert attempts[2].status.status_code is StatusCode.OK


def test_the_client_span_nests_inside_its_attempt_span(harness: Harness) -> None:
    openai = harness.provider("openai", gpt_4=[RateLimited("429", retry_after_s=1), "Ok."])
    router = harness.router(openai)

    router.chat(REQUEST, ["gpt-4"])

    spans = by_name(harness)
    attempts = {s.context.span_id for s in spans["attempt gpt-4"]}
    assert len(spans["chat gpt-4"]) == 2
    assert {parent_of(s) for s in spans["chat gpt-4"]} == attempts


def test_all_failed_marks_the_route_span_as_an_error(harness: Harness) -> None:
    down = ProviderUnavailable("down")
    router = harness.router(
        harness.provider("openai", gpt_4=[down], gpt_3_5_turbo=[down]),
        harness.provider("anthropic", claude_3_sonnet=[down]),
        max_attempts_per_model=1,
    )

    with pytest.raises(AllProvidersFailed):
        router.chat(REQUEST, ROUTE)

    (route,) = by_name(harness)[f"route {' → '.join(ROUTE)}"]
    assert route.status.status_code is StatusCode.ERROR
    assert route.attributes is not None
    assert route.attributes["error.type"] == "AllProvidersFailed"


def test_stream_attempt_spans_end_with_the_stream_and_hold_the_client_span(
    harness: Harness,
) -> None:
    openai = harness.provider("openai", gpt_4=[ProviderTimeout("slow")])
    anthropic = harness.provider("anthropic", claude_3_sonnet=["Streamed answer here."])
    router = harness.router(openai, anthropic, max_attempts_per_model=1)

    stream = router.stream(REQUEST, ROUTE)
    next(stream)
    assert "attempt claude-3-sonnet" not in by_name(harness)  # still streaming
    list(stream)

    spans = by_name(harness)
    (route,) = spans[f"route {' → '.join(ROUTE)}"]
    (failed,) = spans["attempt gpt-4"]
    (good,) = spans["attempt claude-3-sonnet"]
    assert parent_of(failed) == parent_of(good) == route.context.span_id
    assert failed.attributes is not None
    assert failed.attributes["observatory.fallback.reason"] == "timeout"
    assert parent_of(spans["chat claude-3-sonnet"][0]) == good.context.span_id
    assert good.end_time is not None and route.end_time is not None
    assert good.end_time <= route.end_time


def test_a_stream_failing_midway_records_the_error_without_a_fallback_reason(
    harness: Harness,
) -> None:
    openai = harness.provider("openai", gpt_4=[MidStream("Hal", ProviderTimeout("cut"))])
    router = harness.router(openai, harness.provider("anthropic"))

    with pytest.raises(ProviderTimeout):
        list(router.stream(REQUEST, ROUTE))

    (attempt,) = by_name(harness)["attempt gpt-4"]
    assert attempt.attributes is not None
    assert attempt.attributes["error.type"] == "ProviderTimeout"
    assert "observatory.fallback.reason" not in attempt.attributes


def test_a_stream_closed_early_ends_its_spans_without_error(harness: Harness) -> None:
    router = harness.router(harness.provider("openai", gpt_4=["one two three"]))

    stream = router.stream(REQUEST, ["gpt-4"])
    next(stream)
    stream.close()

    spans = by_name(harness)
    assert spans["attempt gpt-4"][0].status.status_code is not StatusCode.ERROR
    assert spans["route gpt-4"][0].status.status_code is not StatusCode.ERROR


def test_a_model_skipped_by_its_open_breaker_gets_its_own_attempt_span(harness: Harness) -> None:
    openai = harness.provider("openai", gpt_4=[ProviderUnavailable("500")])
    anthropic = harness.provider("anthropic", claude_3_sonnet=["Claude here."])
    router = harness.router(openai, anthropic, max_attempts_per_model=1)
    for _ in range(3):
        router.chat(REQUEST, ROUTE)
    harness.exporter.clear()

    routed = router.chat(REQUEST, ROUTE, name="default")

    spans = by_name(harness)
    (route,) = spans["route default"]
    (skipped,) = spans["attempt gpt-4"]
    assert parent_of(skipped) == route.context.span_id
    assert dict(skipped.attributes or {}) == {
        "observatory.attempt": 1,
        "gen_ai.request.model": "gpt-4",
        "gen_ai.provider.name": "openai",
        "observatory.fallback.reason": "circuit_open",
    }
    assert skipped.status.status_code is StatusCode.UNSET
    assert "chat gpt-4" not in spans  # the provider was never called
    (answered,) = spans["attempt claude-3-sonnet"]
    assert answered.attributes is not None and answered.attributes["observatory.attempt"] == 2
    assert [(a.model, a.outcome, a.reason) for a in routed.attempts] == [
        ("gpt-4", "skipped", "circuit_open"),
        ("claude-3-sonnet", "ok", None),
    ]


def test_a_streamed_route_shows_the_open_breaker_skip_under_its_route_span(
    harness: Harness,
) -> None:
    openai = harness.provider("openai", gpt_4=[ProviderUnavailable("500")])
    anthropic = harness.provider("anthropic", claude_3_sonnet=["Streamed answer."])
    router = harness.router(openai, anthropic, max_attempts_per_model=1)
    for _ in range(3):
        router.chat(REQUEST, ROUTE)
    harness.exporter.clear()

    list(router.stream(REQUEST, ROUTE, name="default"))

    spans = by_name(harness)
    (route,) = spans["route default"]
    (skipped,) = spans["attempt gpt-4"]
    assert parent_of(skipped) == route.context.span_id
    assert skipped.attributes is not None
    assert skipped.attributes["observatory.fallback.reason"] == "circuit_open"


def test_a_model_no_provider_serves_gets_a_skip_span_naming_the_reason(harness: Harness) -> None:
    router = harness.router(harness.provider("anthropic", claude_3_sonnet=["Hi."]))

    router.chat(REQUEST, ["gpt-4", "claude-3-sonnet"])

    (skipped,) = by_name(harness)["attempt gpt-4"]
    assert skipped.attributes is not None
    assert skipped.attributes["observatory.fallback.reason"] == "unknown_model"
    assert skipped.attributes["error.type"] == "UnknownModel"
    assert skipped.status.status_code is StatusCode.ERROR
