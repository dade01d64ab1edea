"""Trace rows summed from a batch of span rows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from observability.store.rollups import RollupBatch
from observability.store.rows import SpanRow
from observability.store.schema import traces

AT = datetime(2026, 11, 30, 12, tzinfo=UTC)


def _row(span_id: str, operation: str, model: str, parent: str | None = "root") -> SpanRow:
    return SpanRow(
        trace_id="t1", span_id=span_id, parent_span_id=parent, name=f"{operation} {model}",
        start_time=AT, end_time=AT, status="ok", operation=operation, provider="openai",
        request_model=model, input_tokens=10, output_tokens=5, cost_usd=0.001,
        duration_ms=5.0,
    )  # fmt: skip


def _trace(batch: RollupBatch) -> dict[str, Any]:
    [(table, [row])] = batch.upserts(rollups=False)
    assert table is traces
    return dict(zip(traces.c.keys(), row, strict=True))


def test_a_turn_is_listed_under_its_chat_model_not_the_embedding_before_it() -> None:
    batch = RollupBatch()
    batch.add(_row("a", "embeddings", "text-embedding-3-small"))
    batch.add(_row("b", "chat", "gpt-4o-mini"))
    batch.add(_row("c", "chat", "claude-haiku-4-5"))

    trace = _trace(batch)
    assert trace["model"] == "gpt-4o-mini"
    assert trace["call_count"] == 3
    assert trace["input_tokens"] == 30


def test_a_trace_of_embeddings_only_is_listed_under_the_embedding_model() -> None:
    batch = RollupBatch()
    batch.add(_row("a", "embeddings", "text-embedding-3-small"))

    assert _trace(batch)["model"] == "text-embedding-3-small"
