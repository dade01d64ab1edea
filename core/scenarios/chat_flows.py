"""The scenarios that are customer conversations: order status, function calling, the context
window and PII redaction. Each is a generator of steps over one ``RunContext``."""

from __future__ import annotations

import json
from collections.abc import Generator
from dataclasses import asdict

from opentelemetry import trace
from sqlmodel import Session, col, select

from core.conversation import history as store
from core.conversation.prompts import build_system_prompt
from core.conversation.questions import search_each_question
from core.db.models import AppointmentSlot, Booking, BookingStatus, MessageRole, utcnow
from core.errors import EngineError
from core.providers.catalogue import get_model
from core.scenarios.definitions import CONTEXT_BUDGET_TOKENS
from core.scenarios.driver import RunContext, Step
from core.scenarios.proof import request_mark, requests_since
from core.scenarios.scripts import EARLIER_CONVERSATION
from core.scenarios.turns import has_booking, late_order, pick_customer, tell_answer, tell_turn
from core.tokens import count_message_tokens, count_tokens

tracer = trace.get_tracer("support_observatory.scenarios")


def order_status(run: RunContext) -> Generator[Step, None, None]:
    """Retrieval, the order tool and a cited answer; then the prompt's parts counted."""
    user = pick_customer(run, lambda session, user: late_order(session, user) is not None)
    with Session(run.services.db) as session:
        order = late_order(session, user)
    question = run.scenario.turns[0].format(order=order)
    result = yield from tell_turn(run, user, question)
    cited = ", ".join(f"[{c.number}] {c.title}" for c in result.citations) or "none"
    yield Step(f"Cited passages: {cited}.")
    yield Step("Counting the prompt's parts with the model's tokenizer…")
    run.facts["parts"] = _prompt_parts(run, user.name, question, result.conversation_id)
    run.facts["model"] = result.model


def _prompt_parts(
    run: RunContext, customer: str, question: str, conversation_id: str
) -> dict[str, int]:
    """Tokens of each part of the answering prompt, counted as the engine builds it."""
    parts = run.services.engine.parts
    model = parts.settings.router.default_route[0]
    with tracer.start_as_current_span("count prompt parts"):
        hits = search_each_question(parts.kb, question, ("global", conversation_id))
    sources = parts.kb.format_sources(hits)
    instructions = build_system_prompt(customer_name=customer, now=parts.now(), sources="")
    rows = store.list_messages(parts.db, conversation_id)
    earlier = [row.content for row in rows if row.role is not MessageRole.SYSTEM][:-2]
    tools = json.dumps([asdict(spec) for spec in parts.tools.specs()])
    return {
        "system prompt": count_tokens(instructions, model),
        "tool definitions": count_tokens(tools, model),
        "sources": count_tokens(sources, model),
        "history": sum(count_tokens(text, model) for text in earlier),
        "question": count_tokens(question, model),
    }


def function_calling(run: RunContext) -> Generator[Step, None, None]:
    """Free times looked up, the move asked for, the customer's pick and confirmation, then
    the booking moved."""
    user = pick_customer(run, has_booking)
    service = _booked_service(run, user.id or 0)
    engine = run.engine()
    asked, move = (text.format(service=service) for text in run.scenario.turns)
    looked = yield from tell_turn(run, user, asked, engine=engine)
    conversation_id = looked.conversation_id
    result = yield from tell_turn(run, user, move, conversation_id=conversation_id, engine=engine)
    pending = result.pending_action
    if pending is None:
        raise EngineError("The assistant did not offer to move the appointment this time.")
    offered = ", ".join(pending.choices[:4]) or "the time asked for"
    yield Step(f"The assistant asks first: “{pending.question}” Times offered: {offered}.")
    picked = pending.choices[0] if pending.choices else pending.confirm_label
    yield Step(f"{user.name} picks {picked} and confirms.")
    confirmed = engine.confirm_action(pending.id, user.id or 0, choice=0)
    for step in confirmed.tool_steps:
        yield Step(f"Tool {step.name} {'done' if step.ok else 'failed'}.")
    yield tell_answer(confirmed)
    run.facts["conversation_id"] = conversation_id


def _booked_service(run: RunContext, user_id: int) -> str:
    with Session(run.services.db) as session:
        service = session.exec(
            select(AppointmentSlot.service)
            .join(Booking, col(Booking.slot_id) == col(AppointmentSlot.id))
            .where(Booking.user_id == user_id, Booking.status == BookingStatus.BOOKED)
            .order_by(col(AppointmentSlot.starts_at))
        ).first()
    return str(service or "bike service")


def context_window(run: RunContext) -> Generator[Step, None, None]:
    """A long conversation over a small budget: the first live turn summarises the oldest
    messages, the following turns carry the summary instead."""
    user = pick_customer(run)
    engine = run.engine(context_budget_share=_budget_share(run))
    conversation_id = engine.start_conversation(user.id or 0)
    for role, text in EARLIER_CONVERSATION:
        store.add_message(
            run.services.db,
            conversation_id,
            MessageRole.USER if role == "user" else MessageRole.ASSISTANT,
            text,
            author_id=user.id if role == "user" else None,
        )
    model = run.services.settings.router.default_route[0]
    earlier = count_message_tokens(
        [{"role": role, "content": text} for role, text in EARLIER_CONVERSATION], model
    )
    yield Step(
        f"Loaded the conversation so far: {len(EARLIER_CONVERSATION)} messages, {earlier:,} "
        f"tokens; this run's context budget is {CONTEXT_BUDGET_TOKENS:,} tokens."
    )
    for number, text in enumerate(run.scenario.turns, start=1):
        result = yield from tell_turn(
            run, user, text, conversation_id=conversation_id, engine=engine
        )
        if number == 1:
            yield Step(f"Turn {number} sent {result.input_tokens:,} input tokens in all.")
    run.facts["conversation_id"] = conversation_id


def _budget_share(run: RunContext) -> float:
    """The budget share that makes the first model's budget ``CONTEXT_BUDGET_TOKENS``."""
    model = get_model(run.services.settings.router.default_route[0])
    wanted = CONTEXT_BUDGET_TOKENS + model.max_output_tokens + 0.5
    return min(1.0, wanted / model.context_window)


def pii_redaction(run: RunContext) -> Generator[Step, None, None]:
    """A card number, an e-mail and a phone typed by a customer; what left the app is kept."""
    user = pick_customer(run)
    recorder = run.services.recorder
    mark = request_mark(recorder) if recorder is not None else 0
    run.facts["since"] = utcnow()
    result = yield from tell_turn(run, user, run.scenario.turns[0])
    if recorder is not None:
        run.facts["requests"] = [request.text for request in requests_since(recorder, mark)]
    stored = store.list_messages(run.services.db, result.conversation_id)
    question = next(row for row in stored if row.role is MessageRole.USER)
    yield Step(f"Stored as: “{question.content}”")
    run.facts["conversation_id"] = result.conversation_id
    run.facts["stored"] = question.content
