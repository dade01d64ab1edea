"""An experiment run through the real engine is analysed from the spans it left in the store."""

from __future__ import annotations

from datetime import timedelta

from core.conversation import TurnRequest, list_messages
from core.conversation.feedback import record_feedback
from core.db.models import MessageRole, utcnow
from core.experiments import Variant, analysis_spec, create_experiment, get_experiment
from observability.insights.experiments import analyse_experiment
from tests.core.conversation.conftest import App

VARIANTS = [
    Variant("mini", model="gpt-4o-mini", weight=1),
    Variant("haiku", model="claude-haiku-4-5", weight=1),
]


def test_engine_turns_are_counted_per_variant_with_votes_and_quality(fresh: App) -> None:
    db = fresh.services.db
    create_experiment(db, "engine-ab", VARIANTS, min_sample=2)
    customers = [fresh.customer(n) for n in range(30, 36)]
    for customer in customers:
        result = fresh.services.engine.send(
            TurnRequest(
                user_id=customer.id or 0, text="What is your return window?", experiment="engine-ab"
            )
        )
        answer = [m for m in list_messages(db, result.conversation_id)
                  if m.role is MessageRole.ASSISTANT][-1]  # fmt: skip
        record_feedback(db, answer.id or 0, 1, user_id=customer.id)
    assert fresh.services.observatory.force_flush()

    spec = analysis_spec(get_experiment(db, "engine-ab"))
    result = analyse_experiment(fresh.services.traces.engine, spec, utcnow() + timedelta(minutes=1))

    by_name = {v.name: v for v in result.variants}
    assert sum(v.customers for v in by_name.values()) == 6
    assert sum(v.conversations for v in by_name.values()) == 6
    assert all(v.requests >= v.conversations for v in by_name.values() if v.conversations)
    assert sum(v.thumbs_up.n for v in by_name.values()) == 6
    assert all(v.thumbs_up.value == 1 for v in by_name.values() if v.thumbs_up.n)
    assert all(v.quality.n == v.conversations for v in by_name.values())
    assert all(v.cost_per_conversation.value > 0 for v in by_name.values() if v.conversations)
    assert all(v.p50_ms.n >= v.conversations for v in by_name.values())
