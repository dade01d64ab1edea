"""Which provider API and operation a request path belongs to."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from core.simulator.messages import Provider

_AZURE = re.compile(
    r"/openai/deployments/(?P<deployment>[^/]+)/(?P<operation>chat/completions|embeddings)$"
)
_OPENAI = re.compile(r"(?:/v1)?/(?P<operation>chat/completions|embeddings)$")
_ANTHROPIC = re.compile(r"(?:/v1)?/messages(?P<count>/count_tokens)?$")


class Operation(StrEnum):
    CHAT = "chat"
    EMBEDDINGS = "embeddings"
    COUNT_TOKENS = "count_tokens"


@dataclass(frozen=True)
class Route:
    provider: Provider
    operation: Operation
    deployment: str | None = None

    @property
    def anthropic(self) -> bool:
        """True for the Anthropic Messages API."""
        return self.provider is Provider.ANTHROPIC


def route_of(path: str) -> Route | None:
    """The route for a request path, or None when the simulator does not serve it."""
    if match := _AZURE.search(path):
        return Route(Provider.AZURE, _operation(match["operation"]), match["deployment"])
    if match := _OPENAI.search(path):
        return Route(Provider.OPENAI, _operation(match["operation"]))
    if match := _ANTHROPIC.search(path):
        operation = Operation.COUNT_TOKENS if match["count"] else Operation.CHAT
        return Route(Provider.ANTHROPIC, operation)
    return None


def _operation(name: str) -> Operation:
    return Operation.EMBEDDINGS if name == "embeddings" else Operation.CHAT
