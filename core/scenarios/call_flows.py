"""The scenarios about calls more than conversations: document analysis, fallback, error
recovery and the A/B test. Each is a generator of steps over one ``RunContext``."""

from __future__ import annotations

import contextvars
import random
from collections.abc import Generator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import partial
from typing import Any

from sqlmodel import Session

from core.conversation import TurnRequest, TurnResult, TurnStatus, record_feedback
from core.conversation.structured import request_json
from core.errors import EngineError
from core.experiments import (
    ExperimentInfo,
    ExperimentStatus,
    Variant,
    create_experiment,
    list_experiments,
    start_experiment,
)
from core.providers.base import ChatMessage
from core.providers.catalogue import get_model
from core.scenarios.definitions import (
    AB_CANDIDATE,
    AB_CONTROL,
    AB_CONVERSATIONS,
    AB_EXPERIMENT,
    DOCUMENT_FILENAME,
    DOCUMENT_SCOPE,
)
from core.scenarios.driver import RunContext, Step
from core.scenarios.scripts import COMPLAINT_TITLE, complaint_markdown
from core.scenarios.turns import customers, late_order, pick_customer, tell_turn
from core.simulator import Fault, FaultKind
from observability.insights.definitions import Metric
from seed.pdf import render_markdown_pdf

COMPLAINT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "summary": {"type": "string", "minLength": 1},
        "customer_name": {"type": "string"},
        "order_number": {"type": "string"},
        "dates": {"type": "array", "items": {"type": "string", "format": "date"}},
        "amounts_usd": {"type": "array", "items": {"type": "number"}},
        "request": {"type": "string"},
    },
    "required": ["summary", "customer_name", "order_number", "dates", "amounts_usd", "request"],
}
COMPLAINT_INSTRUCTIONS = (
    "You help a support agent of Northwind Outfitters read a customer's complaint. Summarise "
    "it as JSON: summary (two sentences), customer_name, order_number, every date it names "
    "(ISO), every amount in US dollars, and request (what the customer asks for)."
)
AB_WORKERS = 8


def document_analysis(run: RunContext) -> Generator[Step, None, None]:
    """Upload, chunk and embed a PDF complaint, then summarise it into a schema."""
    kb = run.services.kb
    data = render_markdown_pdf(complaint_markdown(), COMPLAINT_TITLE)
    yield Step(f"An agent uploads {DOCUMENT_FILENAME} ({len(data) / 1024:.0f} KB).")
    indexed = kb.ingest(DOCUMENT_FILENAME, data, source="upload", scope=DOCUMENT_SCOPE)
    run.facts["cached"] = indexed.unchanged
    if indexed.unchanged:
        yield Step(
            f"Already indexed ({indexed.pages} pages, {indexed.chunks} chunks): the stored "
            "vectors are used, nothing is embedded again."
        )
    else:
        yield Step(f"Read {indexed.pages} pages and embedded {indexed.chunks} chunks.")
    hits = kb.search(
        "complaint refund amounts dates request", top_k=indexed.chunks, scope=DOCUMENT_SCOPE
    )
    ordered = sorted(hits, key=lambda hit: (hit.page or 0, hit.start))
    yield Step(f"Retrieved {len(ordered)} chunks of the document, in page order.")
    text = "\n\n".join(hit.text for hit in ordered)
    route = list(run.services.settings.router.default_route)
    result = request_json(
        lambda request: run.services.router.chat(request, route).response,
        name="complaint_summary",
        schema=COMPLAINT_SCHEMA,
        messages=[
            ChatMessage(role="system", content=COMPLAINT_INSTRUCTIONS),
            ChatMessage(role="user", content=text),
        ],
        model=route[0],
    )
    run.facts["summary"] = result.data
    yield Step(f"Summarised by {result.response.model}: “{result.data['summary']}”")


def fallback(run: RunContext) -> Generator[Step, None, None]:
    """429 then 500 from the primary model; the router falls back to the next provider."""
    user = pick_customer(run)
    route = list(run.services.settings.router.default_route)
    primary = get_model(route[0])
    rate_limit = Fault(FaultKind.RATE_LIMIT, primary.provider, primary.name, times=1)
    run.arm(replace(rate_limit, retry_after_s=1.0))
    run.arm(replace(rate_limit, kind=FaultKind.SERVER_ERROR))
    yield Step(f"Armed on {primary.provider}/{primary.name}: a 429 (retry after 1 s), then a 500.")
    result = yield from tell_turn(run, user, run.scenario.turns[0])
    snapshots = run.services.router.breaker_snapshots()
    run.facts["breakers"] = {key: snap.state.value for key, snap in snapshots.items()}
    run.facts["breaker_failures"] = {
        key: snap.consecutive_failures for key, snap in snapshots.items()
    }
    run.facts["primary"] = primary.name
    yield Step(f"Served by {result.model} after {result.attempts} attempts.")


def error_recovery(run: RunContext) -> Generator[Step, None, None]:
    """A customer turn, then the agent's structured draft with malformed JSON armed once."""
    user = pick_customer(run, lambda session, user: late_order(session, user) is not None)
    with Session(run.services.db) as session:
        order = late_order(session, user)
    result = yield from tell_turn(run, user, run.scenario.turns[0].format(order=order))
    route = list(run.services.settings.router.default_route)
    primary = get_model(route[0])
    run.arm(Fault(FaultKind.MALFORMED_JSON, primary.provider, primary.name, times=1))
    yield Step(f"Armed on {primary.provider}/{primary.name}: the next JSON answer is malformed.")
    yield Step("An agent asks for an AI draft (summary, intent, sentiment, reply as JSON)…")
    draft = run.services.desk.draft_reply(result.conversation_id, route)
    if not draft.recovered:
        raise EngineError("The draft came back valid at once: the malformed answer was not used.")
    yield Step("The first answer failed validation; the retry quoting the schema succeeded.")
    yield Step(f"Draft ({draft.intent}, {draft.sentiment}): “{draft.reply}”")


def ab_test(run: RunContext) -> Generator[Step, None, None]:
    """A batch of conversations split between two models, each answer voted on."""
    info = _experiment(run)
    run.facts["experiment"] = info.name
    yield Step(f"Experiment “{info.name}”: {AB_CONTROL} (control) against {AB_CANDIDATE}.")
    everyone = customers(run)
    start = run.scenario.customer
    batch = [everyone[(start + i) % len(everyone)] for i in range(AB_CONVERSATIONS)]
    questions = run.scenario.turns
    engine = run.engine()

    def converse(index: int) -> TurnResult:
        user = batch[index]
        return engine.send(
            TurnRequest(
                user_id=user.id or 0,
                text=questions[index % len(questions)],
                experiment=info.name,
                scenario=run.scenario.key.value,
            )
        )

    yield Step(f"Running {AB_CONVERSATIONS} conversations, {AB_WORKERS} at a time…")
    results = run.on_own_trace(lambda: _in_parallel(converse, AB_CONVERSATIONS))
    votes = {"up": 0, "down": 0}
    for user, result in zip(batch, results, strict=True):
        run.trace_ids.append(result.trace_id or "")
        if result.status is not TurnStatus.ANSWERED or result.message_id is None:
            continue
        vote = _simulated_vote(user.id or 0, result)
        run.on_own_trace(
            partial(record_feedback, run.services.db, result.message_id, vote, user_id=user.id)
        )
        votes["up" if vote > 0 else "down"] += 1
    by_variant: dict[str, int] = {}
    for result in results:
        by_variant[result.variant or "none"] = by_variant.get(result.variant or "none", 0) + 1
    split = ", ".join(f"{name}: {n}" for name, n in sorted(by_variant.items()))
    yield Step(f"Answered ({split}); simulated votes: {votes['up']} 👍, {votes['down']} 👎.")
    run.trace_ids[:] = [trace_id for trace_id in run.trace_ids if trace_id]


def _experiment(run: RunContext) -> ExperimentInfo:
    """The scenario's running experiment, created on the first run (a new round when an
    admin ended the previous one, whose results stay on the Admin page)."""
    db = run.services.db
    known = {info.name: info for info in list_experiments(db, active_only=False)}
    for round_number in range(1, 100):
        name = AB_EXPERIMENT if round_number == 1 else f"{AB_EXPERIMENT} (round {round_number})"
        info = known.get(name)
        if info is None:
            control, candidate = (
                Variant(AB_CONTROL, model=AB_CONTROL),
                Variant(AB_CANDIDATE, model=AB_CANDIDATE),
            )
            return create_experiment(
                db,
                name,
                [control, candidate],
                "The Scenarios page's A/B test: the same questions to two models.",
                metric=Metric.COST_PER_CONVERSATION,
                min_sample=10,
            )
        if info.status is ExperimentStatus.DRAFT:
            return start_experiment(db, name)
        if info.status is ExperimentStatus.RUNNING:
            return info
    raise EngineError("Every round of the A/B scenario's experiment has ended.")


def _in_parallel(converse: Any, count: int) -> list[TurnResult]:
    """``converse(0…count-1)`` on a few threads, each in a copy of the caller's context."""
    with ThreadPoolExecutor(AB_WORKERS, thread_name_prefix="scenario-ab") as pool:
        futures = [
            pool.submit(contextvars.copy_context().run, converse, index) for index in range(count)
        ]
        return [future.result() for future in futures]


def _simulated_vote(user_id: int, result: TurnResult) -> int:
    """A thumbs up with the answer's quality score as its chance, seeded by the customer so a
    run votes the same way every time."""
    chance = result.quality.score if result.quality is not None else 0.5
    return 1 if random.Random(user_id).random() < chance else -1
