"""Synthetic, reproducible LLM traces as finished OpenTelemetry spans (benches and tests).

Traces come in conversations: one user's turns a minute or so apart. Each trace is a ``route``
root, one or two ``attempt`` spans (a failed first attempt falls back), a ``chat {model}``
client span per attempt with GenAI usage and cost, and sometimes a tool span.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags
from sqlalchemy import Engine, text

from observability.store import prepare_store
from observability.store.rows import SpanRow, span_to_row
from observability.store.writer import SqlSpanWriter

MODELS = (
    ("openai", "gpt-4o-mini", 0.15, 0.6),
    ("openai", "gpt-4o", 2.5, 10.0),
    ("anthropic", "claude-3-5-haiku", 0.8, 4.0),
    ("anthropic", "claude-3-5-sonnet", 3.0, 15.0),
    ("azure.ai.openai", "support-gpt4o", 2.5, 10.0),
    ("openai", "custom-finetune", None, None),
)
SCENARIOS = ("order_status", "returns", "appointments", "product_help", "smalltalk")
RESOURCE = Resource.create({"service.name": "bench"})
NS = 1_000_000_000


def generate_spans(
    count: int, *, seed: int = 7, start: datetime | None = None, days: float = 30.0
) -> Iterator[ReadableSpan]:
    """About ``count`` spans in whole traces, in conversations spread evenly over ``days`` from
    ``start``. A conversation is one user's 1–8 turns (one trace each) 20–120 s apart, with
    one experiment variant and scenario, as in the app's chats."""
    rng = random.Random(seed)
    origin = start or datetime(2026, 10, 1, tzinfo=UTC)
    end = origin + timedelta(days=days)
    produced = 0
    while produced < count:
        ids = {
            "observatory.conversation.id": f"conv-{rng.getrandbits(48):012x}",
            "observatory.user.id": f"user-{rng.randrange(3_000)}",
            "observatory.experiment.name": "prompt-v2",
            "observatory.experiment.variant": rng.choice(("control", "treatment")),
            "observatory.scenario": rng.choice(SCENARIOS),
        }
        begin = origin + timedelta(seconds=rng.random() * days * 86_400)
        for _ in range(rng.randint(1, 8)):
            if produced >= count or begin >= end:
                break
            trace = list(_trace(rng, begin, ids))
            produced += len(trace)
            yield from trace
            begin += timedelta(seconds=rng.uniform(20, 120))


def _trace(rng: random.Random, begin: datetime, ids: dict[str, str]) -> Iterator[ReadableSpan]:
    trace_id = rng.getrandbits(128) | 1
    root = _context(rng, trace_id)
    at = int(begin.timestamp() * NS)
    cursor = at + 200_000
    attempts = 2 if rng.random() < 0.06 else 1
    for number in range(1, attempts + 1):
        provider, model, price_in, price_out = rng.choice(MODELS)
        failed = number < attempts
        attempt = _context(rng, trace_id)
        duration = int(rng.lognormvariate(6.6, 0.7) * 1_000_000)
        chat_attrs = _chat_attributes(rng, provider, model, price_in, price_out, failed)
        chat_attrs.update(ids)
        status = Status(StatusCode.ERROR, "rate limited") if failed else Status(StatusCode.OK)
        chat = _context(rng, trace_id)
        yield _span(f"chat {model}", chat, trace_id, attempt, cursor + 50_000, duration,
                    chat_attrs, status, SpanKind.CLIENT)  # fmt: skip
        attempt_attrs: dict[str, object] = {
            "observatory.attempt": number,
            "gen_ai.provider.name": provider,
            "gen_ai.request.model": model,
            **ids,
        }
        if failed:
            attempt_attrs["observatory.fallback.reason"] = "rate_limited"
            attempt_attrs["error.type"] = "RateLimited"
        yield _span(f"attempt {model}", attempt, trace_id, root, cursor, duration + 100_000,
                    attempt_attrs, status)  # fmt: skip
        cursor += duration + 150_000
    if rng.random() < 0.3:
        tool = _context(rng, trace_id)
        attrs = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "lookup_order"}
        yield _span("execute_tool lookup_order", tool, trace_id, root, cursor, 3_000_000,
                    {**attrs, **ids}, Status(StatusCode.OK))  # fmt: skip
        cursor += 3_000_000
    yield ReadableSpan(
        name="route support",
        context=root,
        parent=None,
        resource=RESOURCE,
        attributes={"observatory.route": "support", **ids},
        kind=SpanKind.INTERNAL,
        status=Status(StatusCode.OK),
        start_time=at,
        end_time=cursor + 100_000,
    )


def _chat_attributes(
    rng: random.Random,
    provider: str,
    model: str,
    price_in: float | None,
    price_out: float | None,
    failed: bool,
) -> dict[str, object]:
    attrs: dict[str, object] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": provider,
        "gen_ai.request.model": model,
    }
    if failed:
        attrs["error.type"] = "RateLimited"
        return attrs
    tokens_in, tokens_out = rng.randint(200, 4_000), rng.randint(20, 600)
    attrs.update({
        "gen_ai.response.model": model,
        "gen_ai.usage.input_tokens": tokens_in,
        "gen_ai.usage.output_tokens": tokens_out,
        "observatory.cache.hit": rng.random() < 0.1,
    })  # fmt: skip
    if rng.random() < 0.5:
        attrs["gen_ai.request.stream"] = True
        attrs["gen_ai.response.time_to_first_chunk"] = rng.lognormvariate(5.5, 0.5) / 1000
    if price_in is None or price_out is None:
        attrs["observatory.cost.status"] = "unpriced"
    else:
        attrs["observatory.cost.usd"] = (tokens_in * price_in + tokens_out * price_out) / 1e6
        attrs["observatory.cost.status"] = "priced"
    return attrs


def _context(rng: random.Random, trace_id: int) -> SpanContext:
    return SpanContext(trace_id, rng.getrandbits(64) | 1, False, TraceFlags(1))


def _span(
    name: str,
    context: SpanContext,
    trace_id: int,
    parent: SpanContext,
    start: int,
    duration: int,
    attributes: dict[str, object],
    status: Status,
    kind: SpanKind = SpanKind.INTERNAL,
) -> ReadableSpan:
    events = [Event("retry", {"after_s": 1.0}, start + duration // 2)] if not status.is_ok else []
    return ReadableSpan(
        name=name,
        context=context,
        parent=parent,
        resource=RESOURCE,
        attributes=attributes,  # type: ignore[arg-type]
        events=events,
        kind=kind,
        status=status,
        start_time=start,
        end_time=start + duration,
    )


def write_spans(
    engines: list[Engine], spans: Iterable[ReadableSpan], batch: int, *, text_index: bool = False
) -> float:
    """Prepare every store, write ``spans`` into each in batches of ``batch`` and analyse the
    PostgreSQL ones; seconds taken. ``text_index`` gives PostgreSQL stores the trigram index."""
    writers = [
        SqlSpanWriter(
            e,
            prepare_store(e, compress_after_days=7, drop_after_days=90, text_index=text_index),
        )
        for e in engines
    ]
    started = time.perf_counter()
    rows: list[SpanRow] = []
    for span in spans:
        rows.append(span_to_row(span))
        if len(rows) >= batch:
            for writer in writers:
                writer.write(rows)
            rows = []
    for writer in writers:
        writer.write(rows)
    for engine in engines:
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE"))
    return time.perf_counter() - started
