"""Who may read or change what, checked in ``core`` for every call made for a person.

- A customer reads and writes only their own conversations, messages, orders, bookings,
  feedback and attachments, and speaks only as themselves.
- An agent works on conversations assigned to them or still in the queue (not claimed by
  another agent), and may read customers' orders and bookings to help them.
- An admin, and the app itself (``SYSTEM``), may do everything.

Each check raises ``NotAllowed`` with a sentence for the page to show, and nothing else; loading
the row is the caller's job (these are pure, so they sit under every store module).
"""

from __future__ import annotations

from core.actors import Actor, ActorRole
from core.db.models import Conversation
from core.errors import NotAllowed

OTHER_CUSTOMERS = (
    "This conversation belongs to another customer; you can only open and write in your own."
)
OTHER_AGENTS = (
    "Another agent has claimed this conversation; ask them or an admin to hand it back first."
)
NOT_FOR_CUSTOMERS = "That is for support staff; customers can only see their own conversations."
SPEAKS_FOR_OTHERS = "Only the customer themselves can send messages as that customer."
OTHERS_DATA = "You can only see your own orders, bookings, feedback and files."


def check_conversation(actor: Actor, conversation: Conversation) -> None:
    """``actor`` may read and write ``conversation``."""
    match actor.role:
        case ActorRole.CUSTOMER:
            if conversation.user_id != actor.user_id:
                raise NotAllowed(OTHER_CUSTOMERS)
        case ActorRole.AGENT:
            if conversation.assigned_agent_id not in (None, actor.user_id):
                raise NotAllowed(OTHER_AGENTS)
        case ActorRole.ADMIN | ActorRole.SYSTEM:
            pass


def check_customer_data(actor: Actor, user_id: int | None) -> None:
    """``actor`` may read customer ``user_id``'s orders, bookings, votes and conversation list
    (staff may, to help them; a customer only their own)."""
    if actor.role is ActorRole.CUSTOMER and actor.user_id != user_id:
        raise NotAllowed(OTHERS_DATA)


def check_speaks_for(actor: Actor, user_id: int | None) -> None:
    """``actor`` may write as customer ``user_id`` (send a message, vote, answer a request):
    the customer themselves, or the app (scenarios, seeding)."""
    if actor.role is ActorRole.SYSTEM:
        return
    if actor.role is not ActorRole.CUSTOMER or actor.user_id != user_id:
        raise NotAllowed(SPEAKS_FOR_OTHERS)


def check_turn(actor: Actor, user_id: int, conversation: Conversation) -> None:
    """A message from customer ``user_id`` may go into ``conversation``: the actor speaks for
    that customer, and the conversation is that customer's — whoever acts, a customer's words
    are never answered from another customer's conversation."""
    check_speaks_for(actor, user_id)
    if conversation.user_id != user_id:
        raise NotAllowed(OTHER_CUSTOMERS)


def check_staff(actor: Actor) -> None:
    """``actor`` is staff or the app (the agents' queue, drafts, tickets)."""
    if actor.role is ActorRole.CUSTOMER:
        raise NotAllowed(NOT_FOR_CUSTOMERS)
