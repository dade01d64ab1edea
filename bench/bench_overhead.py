"""Time our instrumentation adds to one LLM call.

    python bench/bench_overhead.py              # 3,000 calls per case
    python bench/bench_overhead.py --calls 20000

Each case runs the same call on two clients answered instantly by an ``httpx2.MockTransport``:
one plain, one instrumented, with spans going to an exporter that keeps nothing. Calls alternate
between the two clients so drift hits both alike. Added time = instrumented − plain, at the
median and at p99: what the caller waits for. The call's attributes are read on the caller's
thread; the span itself is made, priced and handed to the processors on the Observatory's
``span-finisher`` thread, which shares the GIL, so its work shows in the p99, not the median.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import anthropic
import httpx2
import openai
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

from observability import Observatory, context, instrument_anthropic, instrument_openai

MESSAGES = [{"role": "user", "content": "Where is my order ORD-10001?"}]
CHAT = json.dumps(
    {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Shipped."},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 20, "completion_tokens": 2, "total_tokens": 22},
    }
).encode()
MESSAGE = json.dumps(
    {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-haiku-4-5-20251001",
        "content": [{"type": "text", "text": "Shipped."}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 20, "output_tokens": 2},
    }
).encode()


class DiscardExporter(SpanExporter):
    """Counts spans and keeps none."""

    def __init__(self) -> None:
        self.count = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.count += len(spans)
        return SpanExportResult.SUCCESS


def transport(body: bytes) -> httpx2.MockTransport:
    headers = {"content-type": "application/json"}
    return httpx2.MockTransport(lambda request: httpx2.Response(200, content=body, headers=headers))


def openai_pair() -> tuple[Callable[[], Any], Callable[[], Any]]:
    def client() -> openai.OpenAI:
        http = httpx2.Client(transport=transport(CHAT))
        return openai.OpenAI(
            base_url="https://api.test/v1", api_key="test", max_retries=0, http_client=http
        )

    plain, traced = client(), instrument_openai(client())
    return (
        lambda: plain.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES),
        lambda: traced.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES),
    )


def anthropic_pair() -> tuple[Callable[[], Any], Callable[[], Any]]:
    def client() -> anthropic.Anthropic:
        http = httpx2.Client(transport=transport(MESSAGE))
        return anthropic.Anthropic(
            base_url="https://api.test",
            api_key="test",
            max_retries=0,
            http_client=http,
            open_telemetry=False,
        )

    plain, traced = client(), instrument_anthropic(client())
    kwargs: dict[str, Any] = {
        "model": "claude-haiku-4-5-20251001",
        "max_tokens": 64,
        "messages": MESSAGES,
    }
    return lambda: plain.messages.create(**kwargs), lambda: traced.messages.create(**kwargs)


def wrapper_only_pair() -> tuple[Callable[[], Any], Callable[[], Any]]:
    """The SDK method replaced by an instant fake: what the wrapper alone costs, warm."""
    completion = openai_pair()[0]()

    def client() -> openai.OpenAI:
        fake = openai.OpenAI(base_url="https://api.test/v1", api_key="test")
        fake.chat.completions.create = lambda **_: completion  # type: ignore[method-assign]
        return fake

    plain, traced = client(), instrument_openai(client())
    return (
        lambda: plain.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES),
        lambda: traced.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES),
    )


def measure(plain: Callable[[], Any], traced: Callable[[], Any], calls: int) -> dict[str, float]:
    for _ in range(200):
        plain()
        traced()
    plain_us: list[float] = []
    traced_us: list[float] = []
    for _ in range(calls):
        for call, sink in ((plain, plain_us), (traced, traced_us)):
            start = time.perf_counter_ns()
            call()
            sink.append((time.perf_counter_ns() - start) / 1000)
    return {
        "plain_median": statistics.median(plain_us),
        "traced_median": statistics.median(traced_us),
        "plain_p99": percentile(plain_us, 99),
        "traced_p99": percentile(traced_us, 99),
    }


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    args = parser.parse_args()
    observatory = Observatory(service_name="bench", environment="bench")
    exporter = DiscardExporter()
    observatory.tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    print(f"{args.calls} calls per client; times in µs per call")
    print(
        f"{'case':<28}{'plain med':>10}{'traced med':>11}{'added med':>10}"
        f"{'plain p99':>10}{'traced p99':>11}{'added p99':>10}"
    )
    try:
        with context(conversation_id="bench", user_id="bench"):
            for label, pair in (
                ("openai chat.completions", openai_pair),
                ("anthropic messages", anthropic_pair),
                ("wrapper alone (fake SDK)", wrapper_only_pair),
            ):
                r = measure(*pair(), args.calls)
                print(
                    f"{label:<28}{r['plain_median']:>10.1f}{r['traced_median']:>11.1f}"
                    f"{r['traced_median'] - r['plain_median']:>10.1f}"
                    f"{r['plain_p99']:>10.1f}{r['traced_p99']:>11.1f}"
                    f"{r['traced_p99'] - r['plain_p99']:>10.1f}"
                )
    finally:
        observatory.shutdown()
    print(f"spans exported: {exporter.count}")


if __name__ == "__main__":
    main()
