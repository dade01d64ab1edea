"""A/B experiments in a turn: the variant decides the route, is stored and stamps every span."""

from sqlmodel import Session, select

from core.conversation import TurnRequest, TurnStatus, get_conversation, list_messages
from core.db.models import Conversation
from core.experiments import Variant, create_experiment, end_experiment
from tests.core.conversation.conftest import App

VARIANTS = [
    Variant("mini", model="gpt-4o-mini", weight=1),
    Variant("haiku", model="claude-haiku-4-5", weight=1),
]


def test_the_conversation_records_its_experiment_and_variant(fresh: App) -> None:
    customer = fresh.customer(18)
    create_experiment(fresh.services.db, "model-ab-stored", VARIANTS)

    result = fresh.services.engine.send(
        TurnRequest(
            user_id=customer.id or 0, text="Do you price match?", experiment="model-ab-stored"
        )
    )

    conversation = get_conversation(fresh.services.db, result.conversation_id)
    assert result.variant in {"mini", "haiku"}
    assert (conversation.experiment, conversation.variant) == ("model-ab-stored", result.variant)
    chosen = {"mini": "gpt-4o-mini", "haiku": "claude-haiku-4-5"}[result.variant or ""]
    assert result.model is not None and result.model.startswith(chosen)


def test_the_variant_is_stamped_on_every_span_of_the_turn(fresh: App) -> None:
    customer = fresh.customer(19)
    create_experiment(fresh.services.db, "model-ab-stamped", VARIANTS)

    result = fresh.services.engine.send(
        TurnRequest(
            user_id=customer.id or 0,
            text="Where can I see my orders?",
            experiment="model-ab-stamped",
        )
    )

    spans = fresh.finished_spans(result.trace_id)
    names = {s.name for s in spans}
    assert {"turn", "assign_experiment", "rate_limit", "score_quality", "save_turn"} <= names
    assert any(name.startswith("chat ") for name in names)
    unstamped = [
        s.name
        for s in spans
        if (s.attributes or {}).get("observatory.experiment.variant") != result.variant
        or (s.attributes or {}).get("observatory.experiment.name") != "model-ab-stamped"
    ]
    assert unstamped == []


def test_an_ended_experiment_leaves_the_turn_on_its_route_and_keeps_the_message(
    fresh: App,
) -> None:
    customer = fresh.customer(20)
    create_experiment(fresh.services.db, "model-ab-ended", VARIANTS)
    end_experiment(fresh.services.db, "model-ab-ended")
    before = _conversations_of(fresh, customer.id or 0)

    result = fresh.services.engine.send(
        TurnRequest(
            user_id=customer.id or 0, text="Do you ship to Canada?", experiment="model-ab-ended"
        )
    )

    assert result.status is TurnStatus.ANSWERED and result.variant is None
    assert result.model is not None and result.model.startswith("gpt-4o-mini")
    assert _conversations_of(fresh, customer.id or 0) == before + 1
    stored = list_messages(fresh.services.db, result.conversation_id)
    assert stored[0].content == "Do you ship to Canada?" and len(stored) == 2
    conversation = get_conversation(fresh.services.db, result.conversation_id)
    assert conversation.experiment is None
    spans = fresh.finished_spans(result.trace_id)
    assignment = next(s for s in spans if s.name == "assign_experiment")
    assert "has ended" in str(assignment.events[0].attributes)
    assert all("observatory.experiment.variant" not in (s.attributes or {}) for s in spans)


def _conversations_of(app: App, user_id: int) -> int:
    with Session(app.services.db) as session:
        return len(session.exec(select(Conversation).where(Conversation.user_id == user_id)).all())
