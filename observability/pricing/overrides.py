"""Admins' prices, stored in the trace store's ``price_overrides`` table and held in memory.

An override prices a model from its effective date on and wins over every other source. A new
price for the same model and date replaces the old one; a later date adds a new period, so
spans keep the price that was in force on their own day. The trace store attaches
``list_price_overrides`` to ``PRICE_BOOK`` (read on first use, refreshed while the writer is
idle); ``save_price_override`` stores one and reloads the book at once.
"""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import Column, Date, Engine, Integer, MetaData, String, Table, Text, delete, select
from sqlalchemy.exc import SQLAlchemyError

from observability.pricing.calculator import PRICE_BOOK
from observability.pricing.rules import PriceRule

RATES = ("input", "output", "cached_input", "cache_write", "cache_write_1h")
LONG_RATES = ("long_input", "long_output")
_metadata = MetaData()
price_overrides = Table(
    "price_overrides",
    _metadata,
    Column("model", String(128), primary_key=True),
    Column("provider", String(64), primary_key=True, default=""),
    Column("effective", Date, primary_key=True),
    *(Column(name, String(32)) for name in (*RATES, *LONG_RATES)),
    Column("long_context_threshold", Integer),
    Column("note", Text, nullable=False, default=""),
)


class PriceOverrideError(ValueError):
    """A price could not be saved or read; the message says what to change."""


def save_price_override(engine: Engine, rule: PriceRule) -> PriceRule:
    """Store ``rule`` (replacing one for the same model, provider and date) and price with it."""
    checked = check_rule(rule)
    row = {
        "model": checked.model,
        "provider": checked.provider,
        "effective": checked.effective,
        **{name: _text(getattr(checked, name)) for name in (*RATES, *LONG_RATES)},
        "long_context_threshold": checked.long_context_threshold,
        "note": checked.note,
    }
    key = (
        (price_overrides.c.model == checked.model)
        & (price_overrides.c.provider == checked.provider)
        & (price_overrides.c.effective == checked.effective)
    )
    try:
        _metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(delete(price_overrides).where(key))
            conn.execute(price_overrides.insert().values(**row))
    except SQLAlchemyError as exc:
        raise PriceOverrideError(
            "The price could not be saved: the trace store did not answer. Try again."
        ) from exc
    load_price_overrides(engine)
    return checked


def list_price_overrides(engine: Engine) -> list[PriceRule]:
    """Every stored override, by model then effective date."""
    try:
        _metadata.create_all(engine)
        with engine.connect() as conn:
            rows = conn.execute(
                select(price_overrides).order_by(
                    price_overrides.c.model, price_overrides.c.effective
                )
            ).mappings()
            return [_rule(dict(row)) for row in rows]
    except SQLAlchemyError as exc:
        raise PriceOverrideError(
            "The price overrides could not be read: the trace store did not answer."
        ) from exc


def load_price_overrides(engine: Engine) -> int:
    """Price with the stored overrides from now on; returns how many there are."""
    rules = list_price_overrides(engine)
    PRICE_BOOK.use(rules)
    return len(rules)


def check_rule(rule: PriceRule) -> PriceRule:
    """``rule`` with its model trimmed, or ``PriceOverrideError`` saying what is wrong."""
    model = rule.model.strip()
    if not model:
        raise PriceOverrideError("Name the model the price is for, e.g. gpt-4o-2024-05-13.")
    for name in (*RATES, *LONG_RATES):
        value = getattr(rule, name)
        if value is not None and (not value.is_finite() or value < 0):
            raise PriceOverrideError(f"The {name.replace('_', ' ')} price must be zero or more.")
    threshold = rule.long_context_threshold
    if (threshold is None) != (rule.long_input is None):
        raise PriceOverrideError(
            "A long-context tier needs both its threshold (input tokens) and its input price."
        )
    if threshold is not None and threshold <= 0:
        raise PriceOverrideError("The long-context threshold must be a positive token count.")
    return PriceRule(**{**rule.__dict__, "model": model, "provider": rule.provider.strip()})


def parse_rate(text: str | float | None, name: str) -> Decimal | None:
    """A rate typed on a page (``""`` → none), or ``PriceOverrideError`` naming the field."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    if isinstance(text, float) and not math.isfinite(text):
        raise PriceOverrideError(f"The {name} price must be a number of dollars per 1M tokens.")
    try:
        return Decimal(str(text).strip().lstrip("$"))
    except InvalidOperation as exc:
        raise PriceOverrideError(
            f"The {name} price must be a number of dollars per 1M tokens, like 2.50."
        ) from exc


def _rule(row: dict[str, object]) -> PriceRule:
    effective = row["effective"]
    if not isinstance(effective, date):
        effective = date.fromisoformat(str(effective)[:10])
    threshold = row["long_context_threshold"]
    rates = {name: _decimal(row[name]) for name in (*RATES, *LONG_RATES)}
    return PriceRule(
        model=str(row["model"]),
        provider=str(row["provider"] or ""),
        effective=effective,
        input=rates.pop("input") or Decimal(0),
        output=rates.pop("output") or Decimal(0),
        long_context_threshold=None if threshold is None else int(str(threshold)),
        note=str(row["note"] or ""),
        **rates,
    )


def _decimal(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
