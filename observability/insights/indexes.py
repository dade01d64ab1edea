"""Partial indexes that let the insights read a month of a million spans without scanning it.

Each covers only the spans an insight reads, and carries the columns it reads, so PostgreSQL
answers from the index alone: the root span of each trace in an experiment (its variant,
conversation and customer; cost and calls then come from ``traces``), the few named steps the
insights look for (turns, votes, escalations, retrievals, cache lookups, context budgets), and
the router attempts that fell back. Writing a span touches them only when it is one of those
(about one span in eight in the app's traces). Created with the store's tables.
"""

from __future__ import annotations

import logging

from sqlalchemy import Engine, Index, and_, or_
from sqlalchemy.exc import SQLAlchemyError

from observability.store.schema import spans

logger = logging.getLogger("observability.insights")
STEP_NAMES = (
    "turn",
    "annotation feedback",
    "summarise_escalation",
    "execute_tool create_ticket",
    "cache_lookup",
    "context_budget",
)
RETRIEVAL = "retrieval %"
c = spans.c
STEPS = or_(c.name.in_(STEP_NAMES), c.name.like(RETRIEVAL))
EXPERIMENT_ROOTS = and_(c.parent_span_id.is_(None), c.experiment.is_not(None))
FALLBACKS = c.fallback_reason.is_not(None)


def _index(name: str, columns: list[str], include: list[str], where: object) -> Index:
    """On PostgreSQL ``include`` rides in the leaves; SQLite, which has no INCLUDE, keys them."""
    return Index(
        name,
        *(c[n] for n in columns),
        postgresql_include=include,
        postgresql_where=where,
        sqlite_where=where,
    )


INSIGHT_INDEXES = (
    _index(
        "ix_spans_experiment_roots",
        ["experiment", "start_time"],
        ["variant", "conversation_id", "user_id", "trace_id"],
        EXPERIMENT_ROOTS,
    ),
    _index(
        "ix_spans_insight_steps", ["name", "start_time"], ["trace_id", "conversation_id"], STEPS
    ),
    _index(
        "ix_spans_fallbacks",
        ["start_time"],
        ["provider", "request_model", "attempt", "duration_ms", "trace_id"],
        FALLBACKS,
    ),
)


def create_insight_indexes(engine: Engine) -> None:
    """Create the insight indexes that do not exist yet (idempotent); one that cannot be made
    is logged, and the insights then read the spans without it."""
    for index in INSIGHT_INDEXES:
        try:
            index.create(engine, checkfirst=True)
        except SQLAlchemyError as exc:
            logger.warning("index %s not created (%s); insights will scan", index.name, exc)
