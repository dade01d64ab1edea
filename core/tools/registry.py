"""Tools the model may call: their definitions, and running one safely as an ``execute_tool`` span.

A tool is a plain function of ``(ToolContext, arguments)`` returning JSON-able data. The registry
validates the model's arguments against the tool's JSON schema first; a refusal (``ToolError``),
bad arguments, an unknown tool or a crash all come back as ``ToolResult(ok=False,
content='{"error": "..."}')`` for the model to recover from — ``execute`` never raises.

A tool that changes something the customer owns (``needs_consent``: cancelling, booking, moving a
booking) never runs on the model's word alone: ``propose`` checks the call and says what it would
do, in a question the customer answers, and ``execute`` runs it only with the customer's
``Consent``, stamped on its span (who confirmed, and when).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from core.errors import EngineError
from core.providers.base import ToolCall, ToolSpec

log = logging.getLogger(__name__)
tracer = trace.get_tracer("support_observatory.tools")

DEFAULT_STORE_TIMEZONE = "America/Los_Angeles"


class ToolError(EngineError):
    """A tool refused or could not act; the message is shown to the model, which tells the user."""


@dataclass(frozen=True)
class ToolContext:
    """Who a tool acts for: tools only see and change this customer's orders and bookings."""

    engine: Engine
    user_id: int
    conversation_id: str | None
    now: datetime
    store_timezone: str = DEFAULT_STORE_TIMEZONE
    """Wall-clock zone of the stores: slot times are read and written in it."""


ToolFunction = Callable[[ToolContext, Mapping[str, Any]], Mapping[str, Any]]

CONSENT_BY: Final = "observatory.consent.confirmed_by"
CONSENT_AT: Final = "observatory.consent.confirmed_at"


@dataclass(frozen=True)
class Choice:
    """One option the customer may pick (a free time), with the full arguments it runs with."""

    label: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class Proposal:
    """What a side-effect call would do, asked of the customer before it runs.

    ``question`` reads as one line ("Cancel ORD-10059 — $1,105.00, refunded to your original
    payment method?"); with ``choices`` the customer picks one (the first is the one the model
    asked for, when it is possible)."""

    question: str
    confirm_label: str
    decline_label: str
    arguments: dict[str, Any]
    choices: tuple[Choice, ...] = ()


@dataclass(frozen=True)
class Consent:
    """The customer's yes: who gave it, and when."""

    user_id: int
    at: datetime


ProposeFunction = Callable[[ToolContext, Mapping[str, Any]], Proposal]


class ToolEffect(StrEnum):
    """What running a tool does to the world, which decides whether its answers may be cached."""

    PURE = "pure"
    """Same arguments, same result for every customer (a fixed lookup): answers may be cached."""
    READS_LIVE_STATE = "reads_live_state"
    """Reads data that changes (an order's status, free slots): a cached answer would go stale."""
    SIDE_EFFECTS = "side_effects"
    """Changes something (cancels, books, opens a ticket): the answer must never be replayed."""


@dataclass(frozen=True)
class Tool:
    """One callable tool: ``parameters`` is the JSON schema of its arguments."""

    name: str
    description: str
    parameters: dict[str, Any]
    function: ToolFunction
    effect: ToolEffect = ToolEffect.READS_LIVE_STATE
    """What running it does; only answers built from ``PURE`` tools alone may be cached."""
    propose: ProposeFunction | None = None
    """For a tool that changes what the customer owns: the question asked before it runs."""
    consent_exempt: str = ""
    """Why a side-effect tool runs without asking (escalating to a person changes nothing the
    customer owns, and is what they asked for); a side-effect tool needs this or ``propose``."""
    validator: Draft202012Validator = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        Draft202012Validator.check_schema(self.parameters)
        object.__setattr__(self, "validator", Draft202012Validator(self.parameters))
        if self.effect is ToolEffect.SIDE_EFFECTS and not (self.propose or self.consent_exempt):
            raise ValueError(
                f"tool {self.name!r} has side effects: give it a propose function (the question "
                "the customer confirms) or a consent_exempt reason"
            )

    @property
    def needs_consent(self) -> bool:
        """True when the tool runs only after the customer says yes."""
        return self.propose is not None

    @property
    def spec(self) -> ToolSpec:
        """What the model is offered."""
        return ToolSpec(self.name, self.description, self.parameters)


@dataclass(frozen=True)
class ToolResult:
    """The outcome of one call: ``content`` is the JSON text the model reads."""

    ok: bool
    content: str
    data: Mapping[str, Any] | None = None


class ToolRegistry:
    """The tools on offer, by name."""

    def __init__(self, tools: Iterable[Tool]) -> None:
        self._tools: dict[str, Tool] = {}
        for tool in tools:
            if tool.name in self._tools:
                raise ValueError(f"two tools are named {tool.name!r}")
            self._tools[tool.name] = tool

    @property
    def names(self) -> list[str]:
        """Tool names in registration order."""
        return list(self._tools)

    def get(self, name: str) -> Tool | None:
        """The tool called ``name``, if any."""
        return self._tools.get(name)

    def specs(self) -> list[ToolSpec]:
        """Every tool as offered to the model."""
        return [tool.spec for tool in self._tools.values()]

    def is_cacheable(self, tool_calls_made: Iterable[str | ToolCall]) -> bool:
        """True when an answer built with these tool calls may be cached: every one is a known
        ``PURE`` tool (a tool reading live state, one with side effects or an unknown name makes
        the answer uncacheable)."""
        for call in tool_calls_made:
            tool = self._tools.get(call if isinstance(call, str) else call.name)
            if tool is None or tool.effect is not ToolEffect.PURE:
                return False
        return True

    def needs_consent(self, name: str) -> bool:
        """True when the tool called ``name`` runs only after the customer confirms."""
        tool = self._tools.get(name)
        return tool is not None and tool.needs_consent

    def propose(self, call: ToolCall, context: ToolContext) -> Proposal | ToolResult:
        """The question to ask before ``call`` runs, or the error the model gets instead (bad
        arguments, an order that cannot be cancelled, a day with no free time…)."""
        tool = self._tools.get(call.name)
        if tool is None or tool.propose is None:
            return error_result(f"{call.name} does not ask the customer first; call it directly.")
        problem = _argument_problem(tool, call.arguments)
        if problem is not None:
            return error_result(f"Invalid arguments for {tool.name}: {problem}")
        try:
            return tool.propose(context, call.arguments)
        except ToolError as exc:
            return error_result(str(exc))
        except SQLAlchemyError as exc:
            log.warning("tool %s could not be proposed: %s", tool.name, exc)
            return error_result("The shop's records could not be reached; try again shortly.")

    def execute(
        self, call: ToolCall, context: ToolContext, *, consent: Consent | None = None
    ) -> ToolResult:
        """Run ``call`` for the customer in ``context`` inside an ``execute_tool`` span; a tool
        that needs the customer's yes runs only with ``consent``."""
        attributes: dict[str, str] = {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": call.name,
            "gen_ai.tool.call.id": call.id,
            "gen_ai.tool.type": "function",
        }
        if consent is not None:
            attributes[CONSENT_BY] = str(consent.user_id)
            attributes[CONSENT_AT] = consent.at.isoformat()
        with tracer.start_as_current_span(
            f"execute_tool {call.name}", kind=SpanKind.INTERNAL, attributes=attributes
        ) as span:
            if consent is None and self.needs_consent(call.name):
                span.set_attribute("error.type", "no_consent")
                result = error_result(
                    f"{call.name} changes the customer's account, so it runs only after they "
                    "confirm; they have been asked."
                )
            else:
                result = self._run(call, context, span)
            if not result.ok:
                span.set_status(Status(StatusCode.ERROR, _error_text(result)))
            return result

    def _run(self, call: ToolCall, context: ToolContext, span: Span) -> ToolResult:
        tool = self._tools.get(call.name)
        if tool is None:
            span.set_attribute("error.type", "unknown_tool")
            known = ", ".join(self._tools)
            return error_result(f"There is no tool called {call.name!r}; use one of: {known}.")
        problem = _argument_problem(tool, call.arguments)
        if problem is not None:
            span.set_attribute("error.type", "invalid_arguments")
            return error_result(f"Invalid arguments for {tool.name}: {problem}")
        try:
            data = tool.function(context, call.arguments)
        except ToolError as exc:
            span.set_attribute("error.type", "refused")
            return error_result(str(exc))
        except SQLAlchemyError as exc:
            log.warning("tool %s hit a database error: %s", tool.name, exc)
            span.set_attribute("error.type", type(exc).__name__)
            return error_result("The shop's records could not be reached; try again shortly.")
        except Exception as exc:  # a tool bug must not end the customer's turn
            log.exception("tool %s failed", tool.name)
            span.set_attribute("error.type", type(exc).__name__)
            return error_result(f"{tool.name} failed unexpectedly; do not retry it.")
        return ToolResult(True, json.dumps(data, ensure_ascii=False, default=str), data)


def error_result(message: str) -> ToolResult:
    """A failed call as the model sees it: ``{"error": message}``."""
    data = {"error": message}
    return ToolResult(False, json.dumps(data, ensure_ascii=False), data)


def _argument_problem(tool: Tool, arguments: Any) -> str | None:
    if not isinstance(arguments, Mapping):
        return "arguments must be a JSON object."
    error: ValidationError | None = next(iter(tool.validator.iter_errors(arguments)), None)
    if error is None:
        return None
    where = ".".join(str(part) for part in error.absolute_path)
    return f"{where}: {error.message}." if where else f"{error.message}."


def _error_text(result: ToolResult) -> str:
    return str((result.data or {}).get("error", "tool failed"))
