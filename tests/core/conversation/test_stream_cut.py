"""A provider's stream cut midway: the customer keeps the words already shown, told it broke."""

from opentelemetry.trace import StatusCode

from core.conversation import TurnRequest, TurnResult, TurnStatus, list_messages
from core.conversation.engine import APOLOGY
from core.faults import Fault, FaultKind
from tests.core.conversation.conftest import App


def test_a_stream_cut_midway_keeps_what_came_and_says_so(fresh: App) -> None:
    customer = fresh.customer(11)
    fresh.services.faults.add(Fault(FaultKind.STREAM_CUT, model="gpt-4o-mini", times=1))

    events = list(
        fresh.services.engine.stream(
            TurnRequest(user_id=customer.id or 0, text="How long do I have to return an item?")
        )
    )

    result = events[-1]
    assert isinstance(result, TurnResult)
    shown = "".join(getattr(event, "text", "") for event in events[:-1])
    assert result.status is TurnStatus.FAILED
    assert shown.strip() and result.text == f"{shown.strip()}\n\n{APOLOGY}"
    assert list_messages(fresh.services.db, result.conversation_id)[-1].content == result.text
    attempts = [s for s in fresh.finished_spans(result.trace_id) if s.name.startswith("attempt ")]
    assert [a.status.status_code for a in attempts] == [StatusCode.ERROR]
    assert fresh.services.faults.pending() == []
