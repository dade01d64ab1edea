"""Tools the assistant can call on the customer's behalf, against the shop's own tables.

    registry = create_tool_registry()
    request = ChatRequest(..., tools=registry.specs())
    result = registry.execute(call, ToolContext(engine, user_id, conversation_id, now))
    result.ok, result.content  # JSON text for the model; {"error": "..."} when it failed

``registry.is_cacheable(names)`` says whether an answer that used those tools may be cached: only
when every one is ``ToolEffect.PURE``. Every shop tool reads live state or changes something, so
today only answers that used no tool at all are cached. A tool that changes what the customer owns
runs only with their ``Consent``: ``registry.propose(call, context)`` gives the question to ask.
"""

from core.tools.appointments import APPOINTMENT_TOOLS
from core.tools.orders import ORDER_TOOLS
from core.tools.registry import (
    Choice,
    Consent,
    Proposal,
    Tool,
    ToolContext,
    ToolEffect,
    ToolError,
    ToolRegistry,
    ToolResult,
    error_result,
)
from core.tools.tickets import TICKET_TOOLS


def create_tool_registry() -> ToolRegistry:
    """Every shop tool: orders, appointments and escalation to a human."""
    return ToolRegistry([*ORDER_TOOLS, *APPOINTMENT_TOOLS, *TICKET_TOOLS])


__all__ = [
    "Choice",
    "Consent",
    "Proposal",
    "Tool",
    "ToolContext",
    "ToolEffect",
    "ToolError",
    "ToolRegistry",
    "ToolResult",
    "create_tool_registry",
    "error_result",
]
