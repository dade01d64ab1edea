"""``@observe``, ``span`` and ``context``: one trace per turn, ids on every span inside."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from opentelemetry import trace
from opentelemetry.trace import StatusCode

from observability import context, current_ids, observe, span
from tests.observability.conftest import Traced


@observe
def retrieve(query: str) -> list[str]:
    with span("rerank", **{"observatory.route": "kb"}):
        return [query.upper()]


@observe(name="answer turn", attributes={"observatory.attempt": 1})
def answer(query: str) -> str:
    return retrieve(query)[0]


def test_nested_steps_make_one_trace_with_parents(traced: Traced) -> None:
    assert answer("tent") == "TENT"

    turn, step, rerank = (traced.named(n) for n in ("answer turn", "retrieve", "rerank"))
    assert {turn.context.trace_id, step.context.trace_id, rerank.context.trace_id} == {
        turn.context.trace_id
    }
    assert step.parent is not None and step.parent.span_id == turn.context.span_id
    assert rerank.parent is not None and rerank.parent.span_id == step.context.span_id
    assert (turn.attributes or {})["observatory.attempt"] == 1
    assert (rerank.attributes or {})["observatory.route"] == "kb"


async def test_async_function_is_traced_and_error_marked(traced: Traced) -> None:
    @observe
    async def lookup(order: str) -> str:
        raise LookupError(order)

    with pytest.raises(LookupError, match="ORD-1"):
        await lookup("ORD-1")

    failed = traced.only()
    assert failed.status.status_code is StatusCode.ERROR
    assert (failed.attributes or {})["error.type"] == "LookupError"


def test_generator_span_covers_iteration_and_children_nest(traced: Traced) -> None:
    @observe
    def words() -> Iterator[str]:
        for word in ("a", "b"):
            with span(f"make {word}"):
                pass
            yield word

    produced = words()
    assert traced.spans() == []
    assert trace.get_current_span() is trace.INVALID_SPAN
    assert list(produced) == ["a", "b"]

    outer = traced.named("test_generator_span_covers_iteration_and_children_nest.<locals>.words")
    child = traced.named("make b")
    assert child.parent is not None and child.parent.span_id == outer.context.span_id


def test_generator_closed_early_ends_its_span(traced: Traced) -> None:
    @observe(name="stream answer")
    def words() -> Iterator[int]:
        yield from range(10)

    produced = words()
    next(produced)
    produced.close()

    assert traced.only().status.status_code is StatusCode.UNSET


async def test_async_generator_is_traced(traced: Traced) -> None:
    @observe(name="tokens")
    async def tokens() -> AsyncIterator[str]:
        yield "x"
        yield "y"

    assert [t async for t in tokens()] == ["x", "y"]
    assert traced.only().name == "tokens"


def test_context_ids_stamped_on_plain_otel_spans_and_restored(traced: Traced) -> None:
    tracer = trace.get_tracer("support_observatory.engine")

    with context(conversation_id="c-9", user_id="42"):
        with context(experiment="tone", variant="friendly"):
            tracer.start_span("inner").end()
        tracer.start_span("outer").end()
    tracer.start_span("after").end()

    inner = traced.named("inner").attributes or {}
    assert inner["observatory.conversation.id"] == "c-9"
    assert inner["observatory.experiment.variant"] == "friendly"
    outer = traced.named("outer").attributes or {}
    assert outer["observatory.user.id"] == "42"
    assert "observatory.experiment.name" not in outer
    assert "observatory.conversation.id" not in (traced.named("after").attributes or {})
    assert current_ids() == {}


def test_span_own_attribute_wins_over_context(traced: Traced) -> None:
    with context(scenario="returns"), span("step", **{"observatory.scenario": "override"}):
        pass

    assert (traced.only().attributes or {})["observatory.scenario"] == "override"
