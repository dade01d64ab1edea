"""Daily budgets, overall and per customer, against the day's spend in the spender rollup.

A budget is US dollars per UTC day. The overall one covers every call; a customer's covers
that customer's calls (``observatory.user.id``); the default customer budget applies to any
customer without one of their own. Settings give defaults, and budgets saved on the Admin page
(the trace store's ``insight_budgets`` table) replace them. A budget is a warning from 80 % of
it spent and an alert once spent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Column, Engine, Float, MetaData, String, Table, delete, func, select
from sqlalchemy.exc import SQLAlchemyError

from observability.insights.anomalies import State, traces_link
from observability.queries import answering
from observability.store.schema import rollup_spenders

WARN_SHARE = 0.8
OVERALL = "overall"
ANY_CUSTOMER = "*"
"""The scope of the default per-customer budget."""
_metadata = MetaData()
insight_budgets = Table(
    "insight_budgets",
    _metadata,
    Column("scope", String(160), primary_key=True),
    Column("daily_usd", Float, nullable=False),
)


class BudgetError(ValueError):
    """A budget could not be saved; the message says what to change."""


@dataclass(frozen=True)
class Budgets:
    """The budgets in force: overall, the default per customer, and customers' own."""

    overall: float | None = None
    per_customer: float | None = None
    customers: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class BudgetStatus:
    """One budget on one day."""

    scope: str
    """``overall`` or a customer id."""
    day: date
    budget: float
    spent: float
    state: State

    @property
    def size(self) -> str:
        """ "$41.20 of $50.00 (82 %) spent today"."""
        share = self.spent / self.budget if self.budget else 0.0
        who = "overall" if self.scope == OVERALL else f"customer {self.scope}"
        spent = f"${self.spent:,.2f} of ${self.budget:,.2f}"
        return f"{who}: {spent} ({share:.0%}) spent on {self.day}".replace("%", " %")

    @property
    def traces_link(self) -> str:
        """The Traces page for the budget's day."""
        start = datetime.combine(self.day, time(), UTC)
        return traces_link(start, start + timedelta(days=1))


def load_budgets(engine: Engine, overall: float | None, per_customer: float | None) -> Budgets:
    """The settings' budgets with those saved on the Admin page put over them."""
    with answering(), engine.connect() as conn:
        _metadata.create_all(conn)
        rows = {str(s): float(v) for s, v in conn.execute(select(insight_budgets))}
        conn.commit()
    customers = tuple(sorted((s, v) for s, v in rows.items() if s not in (OVERALL, ANY_CUSTOMER)))
    return Budgets(rows.get(OVERALL, overall), rows.get(ANY_CUSTOMER, per_customer), customers)


def save_budget(engine: Engine, scope: str, daily_usd: float | None) -> None:
    """Set (or with ``None`` remove) the budget of ``scope``: ``overall``, ``*`` or a customer."""
    scope = scope.strip()
    if not scope:
        raise BudgetError("Say whose budget this is: overall, every customer, or a customer id.")
    if daily_usd is not None and not daily_usd > 0:
        raise BudgetError("A daily budget must be more than $0; clear it to have none.")
    try:
        with engine.begin() as conn:
            _metadata.create_all(conn)
            conn.execute(delete(insight_budgets).where(insight_budgets.c.scope == scope))
            if daily_usd is not None:
                conn.execute(insight_budgets.insert().values(scope=scope, daily_usd=daily_usd))
    except SQLAlchemyError as exc:
        raise BudgetError("The budget could not be saved: the trace store did not answer.") from exc


def check_budgets(engine: Engine, budgets: Budgets, day: date) -> list[BudgetStatus]:
    """Each budget against the spend of ``day`` (UTC): overall first, then customers, most
    spent share first. Customers under the default budget are listed only once past 80 %."""
    start = datetime.combine(day, time(), UTC)
    spent = (
        select(rollup_spenders.c.user_id, func.sum(rollup_spenders.c.cost_usd))
        .where(
            rollup_spenders.c.bucket >= start, rollup_spenders.c.bucket < start + timedelta(days=1)
        )
        .group_by(rollup_spenders.c.user_id)
    )
    with answering(), engine.connect() as conn:
        by_user = {str(u): float(c or 0.0) for u, c in conn.execute(spent)}
    statuses = []
    if budgets.overall is not None:
        statuses.append(_status(OVERALL, day, budgets.overall, sum(by_user.values())))
    own = dict(budgets.customers)
    customers = []
    for user, budget in own.items():
        customers.append(_status(user, day, budget, by_user.get(user, 0.0)))
    if budgets.per_customer is not None:
        for user, cost in by_user.items():
            if user and user not in own and cost >= WARN_SHARE * budgets.per_customer:
                customers.append(_status(user, day, budgets.per_customer, cost))
    customers.sort(key=lambda s: s.spent / s.budget, reverse=True)
    return statuses + customers


def _status(scope: str, day: date, budget: float, spent: float) -> BudgetStatus:
    share = spent / budget
    state = State.ALERT if share >= 1 else State.WARNING if share >= WARN_SHARE else State.OK
    return BudgetStatus(scope, day, budget, spent, state)
