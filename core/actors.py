"""Who is acting: every ``core`` entry point that reads or writes for a person takes an ``Actor``.

    Actor.customer(7)          the customer with user id 7 (their own conversations, orders…)
    Actor.agent(3)             a support agent: conversations assigned to them or still queued
    Actor.admin(1)             an admin: everything
    SYSTEM                     the app itself (the engine's own steps, seeding, scenarios)

``core.ownership`` holds the rules; a refusal is ``NotAllowed`` with a sentence to show.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.db.models import Role, User


class ActorRole(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    ADMIN = "admin"
    SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    """A person (or the app itself) on whose behalf a call runs.

    ``user_id`` is the person's row in the users table; a customer's user id is their customer
    id (conversations, orders and bookings carry it as ``user_id``).
    """

    role: ActorRole
    user_id: int | None = None

    def __post_init__(self) -> None:
        if self.role is not ActorRole.SYSTEM and self.user_id is None:
            raise ValueError(f"a {self.role.value} actor needs a user id")

    @classmethod
    def customer(cls, user_id: int) -> Actor:
        return cls(ActorRole.CUSTOMER, user_id)

    @classmethod
    def agent(cls, user_id: int) -> Actor:
        return cls(ActorRole.AGENT, user_id)

    @classmethod
    def admin(cls, user_id: int) -> Actor:
        return cls(ActorRole.ADMIN, user_id)

    @classmethod
    def for_user(cls, user: User) -> Actor:
        """The actor for a row of the users table, by its role."""
        if user.id is None:
            raise ValueError("the user has not been stored yet")
        return cls(ActorRole(Role(user.role).value), user.id)

    @property
    def sees_everything(self) -> bool:
        """Admins and the app itself are not limited to what they own or were assigned."""
        return self.role in (ActorRole.ADMIN, ActorRole.SYSTEM)

    @property
    def is_staff(self) -> bool:
        return self.role in (ActorRole.AGENT, ActorRole.ADMIN)


SYSTEM = Actor(ActorRole.SYSTEM)
"""The app itself: the engine's internal steps, seeding, scenarios and background jobs."""
