"""The customer's answer to a pending action: confirming runs the tool, declining tells the model.

Each answer is a short traced exchange of its own: a ``consent`` span stamped with the
conversation's ids holds the tool's ``execute_tool`` span (carrying who confirmed and when) and
one model call, offered no tools, that tells the customer what happened or acknowledges the no.
The customer's click is stored as their message ("Keep my order") and the model's answer like
any other. A request can be answered once, by the customer it was asked of, while it is pending.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any, cast

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode
from sqlalchemy import CursorResult, update
from sqlmodel import col

from core.actors import SYSTEM, Actor
from core.conversation import history as store
from core.conversation.context_window import history_from_rows
from core.conversation.generation import Generation, answer_without_tools
from core.conversation.parts import EngineParts
from core.conversation.prompts import build_system_prompt
from core.conversation.steps import save_reply
from core.conversation.tracing import tracer, with_ids
from core.conversation.turns import ToolStep, TurnResult, TurnStatus
from core.db.models import ActionStatus, ConsentRequest, MessageRole
from core.errors import EngineError, NotAllowed, ObservatoryError
from core.ownership import OTHER_CUSTOMERS, check_speaks_for
from core.providers.base import ChatMessage, ToolCall
from core.tools import Consent, ToolContext

log = logging.getLogger(__name__)

ACTION_ID = "observatory.consent.action_id"
DECISION = "observatory.consent.decision"
_GONE = {
    ActionStatus.EXPIRED: "That request expired when a new message was sent; ask again if you "
    "still want it.",
    ActionStatus.CONFIRMED: "That request was already confirmed.",
    ActionStatus.DECLINED: "That request was already declined.",
}


def decide_action(
    parts: EngineParts,
    action_id: int,
    user_id: int,
    *,
    confirm: bool,
    choice: int = 0,
    actor: Actor = SYSTEM,
) -> TurnResult:
    """Answer request ``action_id`` for ``user_id``: run it (with the picked ``choice`` of
    time, if it offers times) or decline it; returns the stored answer. Raises ``NotAllowed``
    when ``actor`` does not speak for ``user_id``, ``EngineError`` with a sentence when the
    request is not this customer's or no longer waiting."""
    check_speaks_for(actor, user_id)
    decision = ActionStatus.CONFIRMED if confirm else ActionStatus.DECLINED
    row = _claim(parts, action_id, user_id, decision)
    arguments = _arguments(row, choice) if confirm else dict(row.arguments)
    ids = with_ids(
        otel_context.get_current(), conversation_id=row.conversation_id, user_id=str(user_id)
    )
    span = tracer.start_span(
        "consent", context=ids, attributes={ACTION_ID: action_id, DECISION: decision.value}
    )
    token = otel_context.attach(trace.set_span_in_context(span, ids))
    try:
        return _answer(parts, row, arguments, span, confirm=confirm)
    except BaseException as exc:
        span.record_exception(exc)
        span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"[:500]))
        raise
    finally:
        otel_context.detach(token)
        span.end()


def _answer(
    parts: EngineParts,
    row: ConsentRequest,
    arguments: dict[str, Any],
    span: Span,
    *,
    confirm: bool,
) -> TurnResult:
    started = time.perf_counter()
    trace_id = format(span.get_span_context().trace_id, "032x")
    label = row.confirm_label if confirm else row.decline_label
    said = store.add_message(
        parts.db,
        row.conversation_id,
        MessageRole.USER,
        f"{label}: {_what(row, arguments)}",
        author_id=row.user_id,
        trace_id=trace_id,
    )
    call = ToolCall(row.call_id, row.tool_name, arguments)
    if confirm:
        context = ToolContext(
            engine=parts.db,
            user_id=row.user_id,
            conversation_id=row.conversation_id,
            now=parts.now(),
        )
        outcome = parts.tools.execute(
            call, context, consent=Consent(row.user_id, row.decided_at or parts.now())
        )
        step = ToolStep(call.id, call.name, arguments, outcome.ok, outcome.content)
        steps: tuple[ToolStep, ...] = (step,)
        told = outcome.content
    else:
        steps = ()
        told = json.dumps(
            {
                "declined": True,
                "message": f"The customer chose “{label}”, so nothing was changed. Acknowledge "
                "it and ask whether anything else would help.",
            },
            ensure_ascii=False,
        )
    generation = Generation()
    messages = _messages(parts, row, call, told)
    try:
        for _ in answer_without_tools(parts, generation, messages, row.route or _route(parts)):
            pass
        text = generation.text
        status = TurnStatus.ANSWERED
    except ObservatoryError as exc:
        log.warning("the answer after consent request %s failed: %s", row.id, exc)
        text = _plain_outcome(row, steps, confirm=confirm)
        status = TurnStatus.FAILED
    fields = generation.result_fields() | {"tool_steps": steps}
    result = TurnResult(
        conversation_id=row.conversation_id,
        status=status,
        text=text,
        user_message_id=said.id or 0,
        trace_id=trace_id,
        latency_ms=round((time.perf_counter() - started) * 1000, 1),
        **fields,
    )
    return save_reply(parts, result)


def _claim(
    parts: EngineParts, action_id: int, user_id: int, decision: ActionStatus
) -> ConsentRequest:
    """Mark the request decided, once: a second click or another user changes nothing."""
    now = parts.now()
    with store.session(parts.db) as db:
        changed = db.execute(
            update(ConsentRequest)
            .where(
                col(ConsentRequest.id) == action_id,
                col(ConsentRequest.user_id) == user_id,
                col(ConsentRequest.status) == ActionStatus.PENDING,
            )
            .values(status=decision, decided_by=user_id, decided_at=now)
        )
        db.commit()
        row = db.get(ConsentRequest, action_id)
    if row is None:
        raise EngineError("That request no longer exists; ask again if you still want it.")
    if not cast(CursorResult[Any], changed).rowcount:
        if row.user_id != user_id:
            raise NotAllowed(OTHER_CUSTOMERS)
        raise EngineError(_GONE.get(row.status, "That request can no longer be answered."))
    return row


def _arguments(row: ConsentRequest, choice: int) -> dict[str, Any]:
    if not row.choices:
        return dict(row.arguments)
    if not 0 <= choice < len(row.choices):
        raise EngineError(f"Pick one of the {len(row.choices)} times offered.")
    return dict(row.choices[choice]["arguments"])


def _what(row: ConsentRequest, arguments: dict[str, Any]) -> str:
    """What the customer answered: the time they picked, or the question."""
    for choice in row.choices:
        if choice["arguments"] == arguments:
            return str(choice["label"])
    return row.question


def _messages(
    parts: EngineParts, row: ConsentRequest, call: ToolCall, told: str
) -> list[ChatMessage]:
    history = history_from_rows(store.list_messages(parts.db, row.conversation_id))
    system = build_system_prompt(
        customer_name=store.customer_name(parts.db, row.user_id),
        now=parts.now(),
        sources="",
        summary=history.summary,
    )
    return [
        ChatMessage(role="system", content=system),
        *history.messages,
        ChatMessage(role="assistant", content="", tool_calls=[call]),
        ChatMessage(role="tool", content=told, tool_call_id=call.id),
    ]


def _route(parts: EngineParts) -> list[str]:
    return list(parts.settings.router.default_route)


def _plain_outcome(row: ConsentRequest, steps: tuple[ToolStep, ...], *, confirm: bool) -> str:
    """What to say when the model cannot be reached after the customer answered."""
    if not confirm:
        return "All right — nothing has been changed."
    if steps and steps[0].ok:
        return f"Done: {row.question.rstrip('?:')}."
    return "That could not be done just now; nothing was changed. Please try again shortly."
