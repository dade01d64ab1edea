"""Synthetic support traffic written into a real trace store for the insight tests.

Each turn is a trace: a ``turn`` span (quality score), a ``chat {model}`` call with cost and
latency, optionally a failed first attempt that fell back, an escalation span and a vote.
Everything goes through ``span_to_row`` and ``SqlSpanWriter``, so the rollups are the store's own.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags
from sqlalchemy import Engine, create_engine

from observability import attributes as attr
from observability.insights.definitions import question_hash
from observability.store.database import prepare_store
from observability.store.rows import span_to_row
from observability.store.writer import SqlSpanWriter

RESOURCE = Resource.create({"service.name": "test"})
_ids = itertools.count(1)


@dataclass
class Turn:
    """One answered turn and what it carries."""

    at: datetime
    conversation: str
    user: str
    cost: float = 0.001
    latency_ms: float = 800.0
    model: str = "gpt-4o-mini"
    provider: str = "openai"
    input_tokens: int = 1000
    output_tokens: int = 100
    quality: float | None = 0.8
    vote: int | None = None
    escalated: bool = False
    experiment: str | None = None
    variant: str | None = None
    fallback_from: str | None = None
    """A primary model that failed first (rate limited) before this call answered."""
    failed: bool = False
    question: str | None = None
    cache_hit: bool | None = None
    extra: dict[str, object] = field(default_factory=dict)


def open_store(database_url: str) -> Engine:
    """A prepared, empty trace store at ``database_url``."""
    engine = create_engine(database_url)
    prepare_store(engine, compress_after_days=7, drop_after_days=90)
    return engine


def write_turns(engine: Engine, turns: list[Turn]) -> None:
    """Write every turn's spans in one batch."""
    dialect = prepare_store(engine, compress_after_days=7, drop_after_days=90)
    rows = [span_to_row(span) for turn in turns for span in spans_of(turn)]
    SqlSpanWriter(engine, dialect).write(rows)


def spans_of(turn: Turn) -> Iterator[ReadableSpan]:
    """The spans of one turn."""
    trace_id = next(_ids) << 64 | 1
    root = _context(trace_id)
    ids: dict[str, object] = {
        "observatory.conversation.id": turn.conversation,
        "observatory.user.id": turn.user,
    }
    if turn.experiment:
        ids["observatory.experiment.name"] = turn.experiment
        ids["observatory.experiment.variant"] = turn.variant or "control"
    start = _ns(turn.at)
    cursor = start + 1_000_000
    if turn.fallback_from:
        failed = {
            **ids,
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": turn.fallback_from,
            "error.type": "429",
        }
        yield _span(f"chat {turn.fallback_from}", trace_id, root, cursor, 2_000.0, failed, ok=False)
        attempt = {
            **ids,
            "observatory.attempt": 1,
            "observatory.fallback.reason": "rate_limited",
            "gen_ai.request.model": turn.fallback_from,
            "gen_ai.provider.name": "openai",
        }
        yield _span("attempt", trace_id, root, cursor, 2_000.0, attempt, ok=False)
        cursor += 2_000_000_000
    if turn.question is not None:
        asked = {**ids, attr.RETRIEVAL_QUERY_HASH: question_hash(turn.question)}
        yield _span("retrieval support_kb", trace_id, root, cursor, 5.0, asked)
    if turn.cache_hit is not None:
        lookup = {**ids, "observatory.cache.hit": turn.cache_hit}
        yield _span("cache_lookup", trace_id, root, cursor, 1.0, lookup)
    call = {
        **ids,
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": turn.provider,
        "gen_ai.request.model": turn.model,
        "gen_ai.response.model": turn.model,
        "gen_ai.usage.input_tokens": turn.input_tokens,
        "gen_ai.usage.output_tokens": turn.output_tokens,
        "observatory.cost.usd": turn.cost,
        "observatory.cost.status": "priced",
        **turn.extra,
    }
    if turn.failed:
        call = {
            k: v for k, v in call.items() if not k.startswith(("gen_ai.usage", "observatory.cost"))
        }
        call["error.type"] = "500"
    yield _span(
        f"chat {turn.model}", trace_id, root, cursor, turn.latency_ms, call, ok=not turn.failed
    )
    answered = {**ids, "observatory.attempt": 2 if turn.fallback_from else 1}
    yield _span("attempt", trace_id, root, cursor, turn.latency_ms, answered, ok=not turn.failed)
    if turn.escalated:
        yield _span("summarise_escalation", trace_id, root, cursor, 10.0, ids)
    turn_attributes = dict(ids)
    if turn.quality is not None:
        turn_attributes["observatory.quality.score"] = turn.quality
    end_ms = (cursor - start) / 1e6 + turn.latency_ms + 5
    yield _span("turn", trace_id, None, start, end_ms, turn_attributes, context=root)
    if turn.vote is not None:
        vote = {
            "observatory.annotation.name": "feedback",
            "observatory.annotation.value": float(turn.vote),
            "observatory.conversation.id": turn.conversation,
        }
        yield _span("annotation feedback", trace_id, root, start, 0.0, vote)


def _context(trace_id: int) -> SpanContext:
    return SpanContext(trace_id, next(_ids), False, TraceFlags(1))


def _ns(moment: datetime) -> int:
    return int(moment.timestamp() * 1e9)


def _span(
    name: str,
    trace_id: int,
    parent: SpanContext | None,
    start_ns: int,
    duration_ms: float,
    attributes: dict[str, object],
    *,
    ok: bool = True,
    context: SpanContext | None = None,
) -> ReadableSpan:
    return ReadableSpan(
        name=name,
        context=context or _context(trace_id),
        parent=parent,
        resource=RESOURCE,
        attributes=attributes,  # type: ignore[arg-type]
        kind=SpanKind.CLIENT if name.startswith("chat") else SpanKind.INTERNAL,
        status=Status(StatusCode.OK if ok else StatusCode.ERROR),
        start_time=start_ns,
        end_time=start_ns + int(duration_ms * 1e6),
    )


def minutes(start: datetime, count: int, step: timedelta = timedelta(minutes=1)) -> list[datetime]:
    """``count`` moments ``step`` apart from ``start``."""
    return [start + step * i for i in range(count)]
