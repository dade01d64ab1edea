"""The demo history: weeks of support traffic made by the real engine on a simulated clock.

Each planned conversation (``seed.history_plan``) runs through the app's conversation engine —
retrieval, tools, the router with its retries and fallbacks, the official SDK clients and the
offline simulator under them — inside ``simulated_clock(start)`` and ``context(environment=
"demo")``. So its spans, with their real structure, carry times in the past and the ``demo``
environment, and its rows (conversations, messages, feedback, tickets) are dated in the past
too. The simulator's latency and the router's backoff advance the simulated clock instead of
sleeping, so a turn costs only the work it does.

The history has its own router (breakers that open in the outage and close on simulated time),
its own fault plan (the incident never reaches live traffic) and a rate limiter of its own; it
shares the knowledge base, tools, cache and database with the app, and always uses the
simulator, keys or not. Every conversation has a fixed id, so a second run makes only those
still missing.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from core.conversation import AgentDesk, EngineParts, TurnRequest, record_feedback
from core.conversation.engine import ConversationEngine
from core.db.models import Conversation, Order, Role, User
from core.errors import ObservatoryError
from core.experiments import ExperimentError, Variant, create_experiment, list_experiments
from core.providers import ProviderSet, create_providers
from core.ratelimit import RateLimiter, RatePolicy
from core.router import Router
from core.services import Services
from core.settings import Settings
from core.simulator import Fault, FaultKind, FaultPlan
from observability import clock, context, instrument_anthropic, instrument_openai
from seed.history_messages import AGENT_REPLY, ESCALATION, question, with_personal_data
from seed.history_plan import (
    HistoryPlan,
    Incident,
    PlannedConversation,
    experiment_start,
    incident_of,
    plan_history,
)
from seed.history_store import record_history, recorded_history

log = logging.getLogger(__name__)

DEFAULT_DAYS = 14
ENVIRONMENT = "demo"
EXPERIMENT = "demo: claude-haiku first"
OUTAGE_SCENARIO = "openai-outage"
UNLIMITED = RatePolicy(1_000_000, 1_000_000)


@dataclass
class HistoryProgress:
    """How far a history load has got; read by the pages while a thread fills it in."""

    total: int = 0
    done: int = 0
    already: int = 0
    stage: str = "waiting"
    finished: bool = False
    error: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def fraction(self) -> float:
        """Share of the planned conversations present, 0 to 1."""
        return 1.0 if not self.total else min(1.0, (self.done + self.already) / self.total)


@dataclass(frozen=True)
class _Cast:
    """The demo customers (in id order) with their order numbers, and the agents."""

    customers: list[User]
    orders: dict[int, list[str]]
    agents: list[User]


def load_history(
    services: Services,
    days: int = DEFAULT_DAYS,
    *,
    short: bool = False,
    progress: HistoryProgress | None = None,
    say: Callable[[str], None] | None = None,
    go_on: Callable[[], bool] | None = None,
) -> HistoryProgress:
    """Make the history's missing conversations (only the short pass's with ``short``).

    A database that already holds a history keeps its length and end; ``say`` is told so.
    ``go_on`` is called before each conversation (it may wait, to let the app's pages go
    first); the load stops when it returns ``False``.
    """
    report = progress or HistoryProgress()
    tell = say or (lambda _message: None)
    plan = _plan(services, days, tell)
    wanted = [c for c in plan.conversations if c.short or not short]
    present = _present(services.db, [c.id for c in wanted])
    with report.lock:
        report.total, report.already, report.done = len(wanted), len(present), 0
        report.stage = "short" if short else "full"
    missing = [c for c in wanted if c.id not in present]
    if not missing:
        tell(f"The demo history's {len(wanted):,} conversations are already there.")
        return report
    tell(f"Making {len(missing):,} demo conversations for a {plan.days}-day history…")
    _run(services, plan, missing, report, go_on or (lambda: True))
    return report


def describe_history(db: Engine, timezone: str) -> str | None:
    """One paragraph on what the demo history in ``db`` holds, or ``None`` without one. Its
    times are in UTC, like every chart and table of the app; the rhythm is the shop's."""
    recorded = recorded_history(db)
    if recorded is None:
        return None
    end = _aware(recorded.ends_at).astimezone(UTC)
    incident = incident_of(end, recorded.days, timezone)
    slow_from, down_from, until = (
        moment.astimezone(UTC)
        for moment in (incident.slow_from, incident.down_from, incident.until)
    )
    started = experiment_start(end, recorded.days).astimezone(UTC)
    return (
        f"The demo history: {recorded.days} days of conversations by the demo customers up to "
        f"{end:%a %d %b %H:%M} UTC with a daily and weekly rhythm in the shop's time zone "
        f"({timezone}); an OpenAI outage on {down_from:%a %d %b} from {slow_from:%H:%M} UTC "
        f"(slow answers) and {down_from:%H:%M} to {until:%H:%M} UTC (Anthropic answers "
        f"instead); the A/B experiment “{EXPERIMENT}” since {started:%a %d %b}; escalations and "
        "thumbs-down in the agent queue. Its spans are labelled environment “demo”."
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _plan(services: Services, days: int, tell: Callable[[str], None]) -> HistoryPlan:
    recorded = recorded_history(services.db)
    if recorded is None:
        ends_at = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        recorded = record_history(services.db, days, ends_at)
    elif recorded.days != days:
        tell(f"This database already holds a {recorded.days}-day demo history; continuing it.")
    ends_at = _aware(recorded.ends_at)
    customers = _count_customers(services.db)
    zone = services.settings.app.store_timezone
    return plan_history(recorded.days, end=ends_at, timezone=zone, customers=customers)


def _run(
    services: Services,
    plan: HistoryPlan,
    missing: Sequence[PlannedConversation],
    report: HistoryProgress,
    go_on: Callable[[], bool],
) -> None:
    """Make ``missing`` a day at a time, newest day first (so the recent days a page shows
    by default fill first), each day in time order on a router of its own (its breakers live
    on that day's clock)."""
    faults = FaultPlan()
    providers = _simulated_providers(services, faults)
    cast = _cast(services.db)
    last_start = plan.conversations[-1].starts_at
    days: dict[date, list[PlannedConversation]] = {}
    for planned in missing:
        days.setdefault(planned.starts_at.astimezone(UTC).date(), []).append(planned)
    try:
        with context(environment=ENVIRONMENT):
            _ensure_experiment(services.db, plan.experiment_from)
            for day in sorted(days, reverse=True):
                parts = _history_parts(services, providers)
                engine, desk = ConversationEngine(parts), AgentDesk(parts)
                try:
                    for planned in days[day]:
                        if not go_on():
                            return
                        _arm_incident(faults, planned, plan.incident)
                        _converse_safely(engine, desk, cast, planned, last_start)
                        with report.lock:
                            report.done += 1
                finally:
                    desk.close()
    finally:
        services.observatory.force_flush()


def _converse_safely(
    engine: ConversationEngine,
    desk: AgentDesk,
    cast: _Cast,
    planned: PlannedConversation,
    last_start: datetime,
) -> None:
    try:
        _converse(engine, desk, cast, planned, last_start)
    except ObservatoryError as exc:
        log.warning("demo conversation %s failed: %s", planned.id, exc)


def _simulated_providers(services: Services, faults: FaultPlan) -> ProviderSet:
    """Simulated providers on the history's own fault plan, traced by the app's Observatory."""
    settings = _simulated_only(services.settings)
    provider = services.observatory.tracer_provider
    return create_providers(
        settings,
        instrument_openai=lambda client: instrument_openai(client, tracer_provider=provider),
        instrument_anthropic=lambda client: instrument_anthropic(client, tracer_provider=provider),
        faults=faults,
    )


def _history_parts(services: Services, providers: ProviderSet) -> EngineParts:
    """The app's knowledge base, tools, cache and database with a router (on the simulated
    clock) and a rate limiter of the history's own."""
    settings = _simulated_only(services.settings)
    router = Router(
        providers.by_name, settings.router, clock=lambda: clock.now_ns() / 1e9, sleep=clock.sleep
    )
    return EngineParts(
        settings=settings,
        db=services.db,
        router=router,
        kb=services.kb,
        tools=services.tools,
        cache=services.cache,
        limiter=RateLimiter(UNLIMITED, engine=None),
    )


def _simulated_only(settings: Settings) -> Settings:
    providers = settings.providers.model_copy(
        update={"openai_api_key": None, "anthropic_api_key": None, "azure_openai_api_key": None}
    )
    return settings.model_copy(update={"providers": providers})


def _arm_incident(faults: FaultPlan, planned: PlannedConversation, incident: Incident) -> None:
    """Arm the phase the conversation starts in, until that phase ends on the simulated clock
    (a conversation that outlasts the outage is answered by OpenAI again)."""
    faults.clear()
    if planned.incident == "slow":
        faults.add(Fault(FaultKind.SLOW, provider="openai", probability=0.8, delay_s=6.0,
                         until=incident.down_from.astimezone(UTC)))  # fmt: skip
    elif planned.incident == "down":
        faults.add(Fault(FaultKind.SERVER_ERROR, provider="openai", status_code=503,
                         until=incident.until.astimezone(UTC)))  # fmt: skip


def _converse(
    engine: ConversationEngine,
    desk: AgentDesk,
    cast: _Cast,
    planned: PlannedConversation,
    last_start: datetime,
) -> None:
    rng = random.Random(planned.id)
    customer = cast.customers[planned.customer % len(cast.customers)]
    user_id = _id(customer)
    with clock.simulated_clock(planned.starts_at) as clk:
        _open_conversation(engine.parts.db, planned.id, user_id)
        texts = [question(rng, topic, cast.orders.get(user_id, [])) for topic in planned.topics]
        if planned.pii:
            texts[0] = with_personal_data(rng, texts[0], customer.name)
        if planned.escalate:
            texts.append(rng.choice(ESCALATION))
        for number, text in enumerate(texts):
            if number:
                clk.advance(rng.uniform(20, 150))
            result = engine.send(
                TurnRequest(
                    user_id=user_id,
                    text=text,
                    conversation_id=planned.id,
                    experiment=EXPERIMENT if planned.in_experiment else None,
                    scenario=OUTAGE_SCENARIO if planned.incident else None,
                )
            )
            vote = planned.votes[number] if number < len(planned.votes) else 0
            if vote and result.message_id is not None:
                clk.advance(rng.uniform(3, 40))
                record_feedback(engine.parts.db, result.message_id, vote, user_id=user_id)
        if planned.escalate and planned.starts_at < last_start - timedelta(hours=20):
            _agent_resolves(desk, cast, planned, rng, clk)


def _agent_resolves(
    desk: AgentDesk,
    cast: _Cast,
    planned: PlannedConversation,
    rng: random.Random,
    clk: clock.SimulatedClock,
) -> None:
    """An agent picks up an older escalation within a few hours, answers and resolves it."""
    agent = _id(rng.choice(cast.agents))
    clk.advance(rng.uniform(600, 4 * 3600))
    desk.claim(planned.id, agent)
    clk.advance(rng.uniform(60, 600))
    desk.reply(planned.id, agent, AGENT_REPLY)
    clk.advance(rng.uniform(60, 1800))
    desk.resolve(planned.id, agent)


def _open_conversation(db: Engine, conversation_id: str, user_id: int) -> None:
    with Session(db) as session:
        session.add(Conversation(id=conversation_id, user_id=user_id))
        session.commit()


def _ensure_experiment(db: Engine, started: datetime) -> None:
    """The history's A/B test, created when it started (left alone if it exists)."""
    if any(e.name == EXPERIMENT for e in list_experiments(db, active_only=False)):
        return
    variants = [Variant("control"), Variant("claude-first", model="claude-haiku-4-5")]
    with clock.simulated_clock(started):
        try:
            create_experiment(
                db, EXPERIMENT, variants, "Demo history: Claude Haiku first against the default."
            )
        except ExperimentError as exc:
            log.warning("the demo experiment was not created: %s", exc)


def _present(db: Engine, ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    with Session(db) as session:
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            found.update(
                session.exec(select(Conversation.id).where(col(Conversation.id).in_(chunk)))
            )
    return found


def _count_customers(db: Engine) -> int:
    with Session(db) as session:
        return len(session.exec(select(User.id).where(User.role == Role.CUSTOMER)).all())


def _cast(db: Engine) -> _Cast:
    with Session(db) as session:
        users = list(session.exec(select(User).order_by(col(User.id))))
        orders: dict[int, list[str]] = {}
        for user_id, number in session.exec(select(Order.user_id, Order.number)):
            orders.setdefault(user_id, []).append(number)
    customers = [u for u in users if u.role == Role.CUSTOMER]
    agents = [u for u in users if u.role is Role.AGENT] or [
        u for u in users if u.role is Role.ADMIN
    ]
    if not customers or not agents:
        raise ObservatoryError("Load the demo data first (python -m seed): it has no customers.")
    return _Cast(customers, orders, agents)


def _id(user: User) -> int:
    if user.id is None:
        raise ValueError(f"user {user.email} has no id yet")
    return user.id
