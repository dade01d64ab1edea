"""Who uses the app: customers, agents and admins from the users table."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from core.db.models import Role, User


def list_users(engine: Engine, role: Role) -> list[User]:
    """Users with ``role`` in name order."""
    with Session(engine, expire_on_commit=False) as session:
        statement = select(User).where(User.role == role).order_by(col(User.name))
        return list(session.exec(statement))


def list_customers(engine: Engine) -> list[User]:
    """Every customer, in name order."""
    return list_users(engine, Role.CUSTOMER)
