"""Files customers attach to a conversation, read only by whoever may read that conversation.

An attached file is a knowledge-base document whose scope is the conversation's id; the queue
indexes it (``TurnQueue``, checked by ``ConversationEngine.authorize`` before anything is read).
These are the reads pages make: one conversation's files, and the knowledge base's document list
without the attachments of conversations the actor may not open.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlmodel import col, select

from core.actors import Actor, ActorRole
from core.conversation.history import get_conversation, session
from core.db.models import Conversation, KbDocument
from core.ownership import check_staff

if TYPE_CHECKING:
    from core.kb import KnowledgeBase

GLOBAL_SCOPE = "global"


def list_attachments(
    db: Engine, kb: KnowledgeBase, conversation_id: str, *, actor: Actor
) -> list[KbDocument]:
    """The files attached to the conversation, newest first (``NotAllowed`` when ``actor`` may
    not read it)."""
    get_conversation(db, conversation_id, actor=actor)
    return kb.list_documents(scope=conversation_id)


def visible_documents(db: Engine, kb: KnowledgeBase, *, actor: Actor) -> list[KbDocument]:
    """The knowledge base's documents for a staff ``actor``: every help-centre document, and
    the attachments of conversations the actor may open (an agent: not another agent's)."""
    check_staff(actor)
    documents = kb.list_documents()
    if actor.role is not ActorRole.AGENT:
        return documents
    others = (
        select(Conversation.id)
        .where(col(Conversation.assigned_agent_id).is_not(None))
        .where(col(Conversation.assigned_agent_id) != actor.user_id)
    )
    with session(db) as store:
        hidden = set(store.exec(others))
    return [d for d in documents if d.scope == GLOBAL_SCOPE or d.scope not in hidden]
