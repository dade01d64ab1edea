"""Support conversations: the engine that answers customers and the desk agents work from.

engine = ConversationEngine(parts)
for event in engine.stream(TurnRequest(user_id=7, text="Where is ORD-10042?")):
    ...  # TextDelta, ToolStarted, ToolFinished, Notice, then the TurnResult
"""

from core.conversation.agent_desk import AgentDesk, Draft
from core.conversation.engine import ConversationEngine
from core.conversation.feedback import customer_votes, record_feedback, withdraw_feedback
from core.conversation.history import (
    get_conversation,
    list_conversations,
    list_messages,
    list_tickets,
    start_conversation,
)
from core.conversation.parts import EngineParts
from core.conversation.queue import QueueFilter, QueueRow, list_queue
from core.conversation.turns import (
    Citation,
    Notice,
    PendingAction,
    TextDelta,
    ToolFinished,
    ToolStarted,
    ToolStep,
    TurnEvent,
    TurnRequest,
    TurnResult,
    TurnStatus,
)

__all__ = [
    "AgentDesk",
    "Citation",
    "ConversationEngine",
    "Draft",
    "EngineParts",
    "Notice",
    "PendingAction",
    "QueueFilter",
    "QueueRow",
    "TextDelta",
    "ToolFinished",
    "ToolStarted",
    "ToolStep",
    "TurnEvent",
    "TurnRequest",
    "TurnResult",
    "TurnStatus",
    "customer_votes",
    "get_conversation",
    "list_conversations",
    "list_messages",
    "list_queue",
    "list_tickets",
    "record_feedback",
    "start_conversation",
    "withdraw_feedback",
]
