"""The response cache: free and visible when it answers, never stale, never another's answer."""

from decimal import Decimal

from sqlmodel import Session, select

from core.conversation import TurnRequest, list_messages
from core.db.models import Order, OrderStatus, User
from observability.store.rows import span_to_row
from tests.core.conversation.conftest import App


def test_a_cache_hit_is_free_on_the_trace_and_keeps_citations_and_quality(fresh: App) -> None:
    customer = fresh.customer(12)
    question = "How do I reset my password?"

    first = fresh.services.engine.send(TurnRequest(user_id=customer.id or 0, text=question))
    second = fresh.services.engine.send(TurnRequest(user_id=customer.id or 0, text=question))

    assert not first.cached and second.cached
    assert second.cost_usd == Decimal(0)
    assert first.citations and second.citations == first.citations
    assert second.quality == first.quality
    spans = fresh.finished_spans(second.trace_id)
    assert not any(s.name.startswith("chat ") for s in spans), "no model was called"
    lookup = next(s for s in spans if s.name == "cache_lookup")
    assert lookup.attributes is not None
    assert lookup.attributes["observatory.cache.hit"] is True
    assert lookup.attributes["observatory.cost.usd"] == 0.0
    row = span_to_row(lookup)
    assert (row.cache_hit, row.cost_usd, row.cost_status) == (True, 0.0, "priced")
    assert row.operation == "chat" and row.provider == "openai"
    stored = list_messages(fresh.services.db, second.conversation_id)[-1]
    assert stored.cost_usd == Decimal(0)
    assert [c["number"] for c in stored.citations] == [c.number for c in first.citations]
    assert first.quality is not None and stored.quality_score == first.quality.score


def test_a_cache_miss_is_marked_and_costs_nothing_extra(fresh: App) -> None:
    customer = fresh.customer(12)

    result = fresh.services.engine.send(
        TurnRequest(user_id=customer.id or 0, text="Do you sell gift cards for birthdays?")
    )

    lookup = next(s for s in fresh.finished_spans(result.trace_id) if s.name == "cache_lookup")
    assert lookup.attributes is not None and lookup.attributes["observatory.cache.hit"] is False
    assert "observatory.cost.usd" not in lookup.attributes


def test_order_status_answers_are_never_cached_so_they_never_go_stale(fresh: App) -> None:
    order = _order_in(fresh, OrderStatus.IN_TRANSIT)
    question = f"Where is my order {order.number}?"
    first = fresh.services.engine.send(TurnRequest(user_id=order.user_id, text=question))
    _set_status(fresh, order, OrderStatus.DELIVERED)

    second = fresh.services.engine.send(TurnRequest(user_id=order.user_id, text=question))

    assert not first.cached and not second.cached
    assert [s.name for s in second.tool_steps] == ["get_order_status"]
    assert '"status": "delivered"' in second.tool_steps[0].result
    assert "deliver" in second.text.lower() and second.text != first.text


def test_a_request_to_confirm_a_cancellation_is_never_replayed_from_the_cache(fresh: App) -> None:
    order = _order_in(fresh, OrderStatus.PROCESSING)
    question = f"Please cancel my order {order.number}"

    first = fresh.services.engine.send(TurnRequest(user_id=order.user_id, text=question))
    second = fresh.services.engine.send(TurnRequest(user_id=order.user_id, text=question))

    assert first.pending_action is not None and first.pending_action.tool == "cancel_order"
    assert not second.cached
    assert second.pending_action is not None
    assert second.pending_action.id != first.pending_action.id


def test_one_customers_cached_answer_is_never_given_to_another(fresh: App) -> None:
    customer = fresh.customer(13)
    namesake = _namesake_of(fresh, customer)
    question = "Can I pay with PayPal?"

    fresh.services.engine.send(TurnRequest(user_id=customer.id or 0, text=question))
    other = fresh.services.engine.send(TurnRequest(user_id=namesake, text=question))
    again = fresh.services.engine.send(TurnRequest(user_id=namesake, text=question))

    assert not other.cached, "same prompt, but another customer"
    assert again.cached, "the same customer asking again is served from the cache"


def _order_in(app: App, status: OrderStatus) -> Order:
    with Session(app.services.db) as session:
        order = session.exec(
            select(Order).where(Order.status == status).order_by(Order.id)  # type: ignore[arg-type]
        ).first()
    assert order is not None
    return order


def _set_status(app: App, order: Order, status: OrderStatus) -> None:
    with Session(app.services.db) as session:
        stored = session.get(Order, order.id)
        assert stored is not None
        stored.status = status
        session.add(stored)
        session.commit()


def _namesake_of(app: App, customer: User) -> int:
    """A second customer with the same name, so both get the very same prompt."""
    with Session(app.services.db) as session:
        twin = User(name=customer.name, email=f"twin-of-{customer.id}@example.com")
        session.add(twin)
        session.commit()
        session.refresh(twin)
    return twin.id or 0
