"""Does the assistant answer like a careful agent? Fact hit rate, wrong side-effect calls and
wrong arguments over the labelled set ``seed/eval/answers.json`` (issue 17).

    python -m bench.bench_answers            # the offline simulator, every case
    python -m bench.bench_answers --show     # also print each miss

A fresh seeded app in a temporary folder (SQLite, local Qdrant, simulator at full speed). Each
fact question is asked in a new conversation as a customer; it hits when the answer contains one
of its key facts. Each information-only message follows a lookup of one of the customer's
processing orders in the same conversation, and is wrong when it proposes or runs a side-effect
tool. Each action conversation must end with the side-effect call it names, waiting for the
customer's yes, with those arguments (a time matches on its start); a refused one must be refused.
Targets: at least 95 % facts, 0 wrong side-effect calls, every action right.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from core.conversation import TurnRequest, TurnResult
from core.db import create_db_engine, init_schema
from core.db.models import (
    AppointmentSlot,
    Booking,
    BookingStatus,
    ConsentRequest,
    Order,
    OrderStatus,
    Role,
    User,
)
from core.services import Services, create_services
from core.settings import AppSettings, EngineSettings, ProviderSettings, Settings
from seed.knowledge_base import seed_knowledge_base
from seed.loader import seed_database

LABELS = Path(__file__).resolve().parents[1] / "seed" / "eval" / "answers.json"
SIDE_EFFECTS = frozenset({"cancel_order", "book_appointment", "reschedule_appointment"})


@dataclass
class Tally:
    facts_hit: int = 0
    facts: int = 0
    wrong_side_effects: int = 0
    information: int = 0
    actions_right: int = 0
    wrong_arguments: int = 0
    actions: int = 0
    misses: list[str] = field(default_factory=list)


def build(data_dir: Path) -> Services:
    settings = Settings(
        app=AppSettings(data_dir=data_dir, seed_on_start=False),
        providers=ProviderSettings(simulator_speed=0.0),
        engine=EngineSettings(rate_limit_burst=100_000, rate_limit_per_minute=100_000),
    )
    db = create_db_engine(settings.database_url)
    init_schema(db)
    seed_database(db, today=datetime.now(UTC).date(), timezone=settings.app.store_timezone)
    services = create_services(settings, db)
    seed_knowledge_base(services.kb)
    return services


def converse(services: Services, user_id: int, messages: list[str]) -> TurnResult:
    conversation_id: str | None = None
    result: TurnResult | None = None
    for text in messages:
        result = services.engine.send(
            TurnRequest(user_id=user_id, text=text, conversation_id=conversation_id)
        )
        conversation_id = result.conversation_id
    assert result is not None
    return result


def side_effects(result: TurnResult) -> list[str]:
    """Side-effect calls the turn proposed or ran."""
    ran = [step.name for step in result.tool_steps if step.name in SIDE_EFFECTS and step.ok]
    return ran + ([result.pending_action.tool] if result.pending_action else [])


def run_facts(services: Services, cases: list[dict[str, Any]], user_id: int, tally: Tally) -> None:
    for case in cases:
        result = converse(services, user_id, [case["question"]])
        tally.facts += 1
        if any(fact.lower() in result.text.lower() for fact in case["fact"]):
            tally.facts_hit += 1
        else:
            tally.misses.append(f"fact {case['fact']}: {case['question']!r} → {result.text!r}")
        tally.wrong_side_effects += len(side_effects(result))


def run_information(
    services: Services, messages: list[str], values: dict[str, str], user_id: int, tally: Tally
) -> None:
    for message in messages:
        text = message.format(**values)
        lookup = f"Where is my order {values['order']}?"
        result = converse(services, user_id, [lookup, text])
        tally.information += 1
        wrong = side_effects(result)
        if wrong:
            tally.wrong_side_effects += len(wrong)
            tally.misses.append(f"side effect {wrong}: {text!r}")


def run_actions(
    services: Services,
    cases: list[dict[str, Any]],
    values: dict[str, str],
    users: dict[str, int],
    tally: Tally,
) -> None:
    for case in cases:
        tool = case.get("tool")
        user_id = users["booking"] if tool and "appointment" in tool else users["orders"]
        messages = [message.format(**values) for message in case["messages"]]
        result = converse(services, user_id, messages)
        tally.actions += 1
        right = _action_right(services, case, values, result, tally)
        tally.actions_right += right
        if not right:
            tally.misses.append(f"action {case}: → {result.text!r}")


def _action_right(
    services: Services,
    case: dict[str, Any],
    values: dict[str, str],
    result: TurnResult,
    tally: Tally,
) -> bool:
    tool = case.get("tool")
    if tool is None:
        refused = case.get("refused")
        lookup = case.get("lookup")
        if result.pending_action is not None:
            return False
        if refused:
            return any(s.name == refused and not s.ok for s in result.tool_steps)
        return any(s.name == lookup and s.ok for s in result.tool_steps)
    pending = result.pending_action
    if pending is None or pending.tool != tool:
        return False
    with Session(services.db) as session:
        row = session.get(ConsentRequest, pending.id)
    assert row is not None
    expected = {name: value.format(**values) for name, value in case["arguments"].items()}
    offered = [dict(row.arguments)] + [dict(choice["arguments"]) for choice in row.choices]
    if _matches(row.arguments, expected):
        return True
    if any(_matches(arguments, expected) for arguments in offered):
        return True
    tally.wrong_arguments += 1
    return False


def _matches(actual: dict[str, Any], expected: dict[str, str]) -> bool:
    return all(str(actual.get(name, "")).startswith(value) for name, value in expected.items())


def pick_values(services: Services) -> tuple[dict[str, str], dict[str, int]]:
    zone = ZoneInfo(services.settings.app.store_timezone)
    with Session(services.db) as session:
        processing = session.exec(
            select(Order).where(Order.status == OrderStatus.PROCESSING).order_by(col(Order.id))
        ).all()
        owner = next(
            o.user_id
            for o in processing
            if len(session.exec(select(Order).where(Order.user_id == o.user_id)).all()) > 1
        )
        mine = session.exec(
            select(Order).where(Order.user_id == owner).order_by(col(Order.id))
        ).all()
        order = next(o for o in mine if o.status is OrderStatus.PROCESSING)
        other = next(o for o in mine if o.id != order.id)
        elsewhere = next(o for o in processing if o.user_id != owner)
        booked = session.exec(
            select(Booking, AppointmentSlot)
            .join(AppointmentSlot, col(AppointmentSlot.id) == Booking.slot_id)
            .where(
                Booking.status == BookingStatus.BOOKED,
                col(AppointmentSlot.starts_at) > datetime.now(UTC),
            )
            .order_by(col(AppointmentSlot.starts_at))
        ).first()
    assert booked is not None
    booking, slot = booked
    day = _free_weekday(slot.starts_at.astimezone(zone).date() + timedelta(days=1))
    values = {
        "order": order.number,
        "other_order": other.number,
        "someone_elses_order": elsewhere.number,
        "day": f"{day:%B} {day.day}",
        "day_iso": day.isoformat(),
    }
    return values, {"orders": owner, "booking": booking.user_id}


def _free_weekday(day: date) -> date:
    while day.weekday() == 6:
        day += timedelta(days=1)
    return day


def a_customer(services: Services) -> int:
    with Session(services.db) as session:
        user = session.exec(select(User).where(User.role == Role.CUSTOMER)).first()
    assert user is not None and user.id is not None
    return user.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", action="store_true", help="print each miss")
    args = parser.parse_args()
    labels = json.loads(LABELS.read_text(encoding="utf-8"))
    tally = Tally()
    with tempfile.TemporaryDirectory() as folder:
        services = build(Path(folder))
        try:
            values, users = pick_values(services)
            run_facts(services, labels["facts"], a_customer(services), tally)
            run_information(services, labels["information_only"], values, users["orders"], tally)
            run_actions(services, labels["actions"], values, users, tally)
        finally:
            services.close()
    share = tally.facts_hit / tally.facts if tally.facts else 0.0
    print(f"facts hit             {tally.facts_hit}/{tally.facts} ({share:.0%}; target ≥ 95 %)")
    print(
        f"wrong side effects    {tally.wrong_side_effects} (target 0) over "
        f"{tally.facts + tally.information} information messages"
    )
    print(f"actions right         {tally.actions_right}/{tally.actions} (target all)")
    print(f"wrong arguments       {tally.wrong_arguments} (target 0)")
    if args.show:
        for miss in tally.misses:
            print("  -", miss)


if __name__ == "__main__":
    main()
