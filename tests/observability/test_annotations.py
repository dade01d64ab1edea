"""``annotate_trace``: a score added to a trace after it ended, at the annotated moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from observability import annotate_trace
from tests.observability.conftest import Traced

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


def test_annotation_joins_the_trace_at_the_answers_moment(traced: Traced) -> None:
    answered = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    made = answered + timedelta(minutes=5)

    annotate_trace(TRACE_ID, "feedback", -1, at=answered, made_at=made)

    stamp = traced.only()
    assert stamp.name == "annotation feedback"
    assert format(stamp.context.trace_id, "032x") == TRACE_ID
    assert stamp.start_time == stamp.end_time == int(answered.timestamp() * 1e9)
    assert stamp.attributes is not None
    assert stamp.attributes["observatory.annotation.value"] == -1
    assert stamp.attributes["observatory.annotation.made_at"] == made.isoformat()


def test_a_bad_trace_id_is_logged_not_raised(traced: Traced) -> None:
    annotate_trace("not-a-trace", "feedback", 1, at=datetime.now(UTC))

    assert traced.spans() == []
