"""Simulated clients: the real OpenAI, Azure and Anthropic SDKs over the simulator transport."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import anthropic
import httpx2
import numpy as np
import openai
import pytest

from core.simulator import FaultPlan, RequestRecorder, create_simulator_transport
from core.simulator.transport import SimulatorTransport

TODAY = date(2026, 11, 19)  # a Thursday
BASE_URL = "https://simulator.invalid"

SOURCES_SYSTEM = """You are the Northwind Outfitters support assistant.
<sources>
[1] Returns and refunds — p.2
You can return most items within 30 days of delivery. Trail Club members get 60 days. \
Refunds are issued 5–7 business days after the item reaches our warehouse.

[2] Shipping options
Standard shipping is free on orders over $75. Express shipping costs $15 and arrives in two \
business days. We ship with UPS, FedEx, USPS and DHL.
</sources>"""


class SleepLog:
    """A fake sleep (sync and async) that records what it was asked to wait."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)

    async def asleep(self, seconds: float) -> None:
        self.calls.append(seconds)


def fake_embed(texts: Sequence[str]) -> np.ndarray:
    """Bag-of-words hashed into 384 dimensions, L2-normalised: shared words → similar vectors."""
    vectors = np.zeros((len(texts), 384), dtype=np.float32)
    for row, text in enumerate(texts):
        for word in re.findall(r"[a-z]+", text.lower()):
            vectors[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % 384] += 1.0
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)


@pytest.fixture
def faults() -> FaultPlan:
    return FaultPlan(seed=3)


@pytest.fixture
def recorder() -> RequestRecorder:
    return RequestRecorder()


@pytest.fixture
def make_transport(
    faults: FaultPlan, recorder: RequestRecorder
) -> Callable[..., SimulatorTransport]:
    def make(**overrides: Any) -> SimulatorTransport:
        options: dict[str, Any] = {
            "speed": 0,
            "seed": 7,
            "faults": faults,
            "recorder": recorder,
            "embedder": fake_embed,
            "today": lambda: TODAY,
            "deployments": {"support-chat": "gpt-4o-mini"},
        }
        options.update(overrides)
        return create_simulator_transport(**options)

    return make


@pytest.fixture
def transport(make_transport: Callable[..., SimulatorTransport]) -> SimulatorTransport:
    return make_transport()


@pytest.fixture
def openai_client(transport: SimulatorTransport) -> openai.OpenAI:
    http = httpx2.Client(transport=transport)
    return openai.OpenAI(api_key="sim", base_url=f"{BASE_URL}/v1", max_retries=0, http_client=http)


@pytest.fixture
def async_openai_client(transport: SimulatorTransport) -> openai.AsyncOpenAI:
    http = httpx2.AsyncClient(transport=transport)
    return openai.AsyncOpenAI(
        api_key="sim", base_url=f"{BASE_URL}/v1", max_retries=0, http_client=http
    )


@pytest.fixture
def azure_client(transport: SimulatorTransport) -> openai.AzureOpenAI:
    return openai.AzureOpenAI(
        api_key="sim",
        azure_endpoint=BASE_URL,
        api_version="2024-10-21",
        max_retries=0,
        http_client=httpx2.Client(transport=transport),
    )


@pytest.fixture
def anthropic_client(transport: SimulatorTransport) -> anthropic.Anthropic:
    http = httpx2.Client(transport=transport)
    return anthropic.Anthropic(api_key="sim", base_url=BASE_URL, max_retries=0, http_client=http)


@pytest.fixture
def async_anthropic_client(transport: SimulatorTransport) -> anthropic.AsyncAnthropic:
    http = httpx2.AsyncClient(transport=transport)
    return anthropic.AsyncAnthropic(
        api_key="sim", base_url=BASE_URL, max_retries=0, http_client=http
    )


def function_tool(
    name: str, description: str, properties: dict[str, Any], required: list[str]
) -> dict[str, Any]:
    """An OpenAI ``tools`` entry."""
    parameters = {"type": "object", "properties": properties, "required": required}
    return {
        "type": "function",
        "function": {"name": name, "description": description, "parameters": parameters},
    }


SUPPORT_TOOLS = [
    function_tool(
        "get_order_status",
        "Look up the status, carrier, tracking number and ETA of an order.",
        {"order_number": {"type": "string", "description": "Like ORD-10001"}},
        ["order_number"],
    ),
    function_tool(
        "check_availability",
        "List free appointment slots for a service on a date.",
        {
            "service": {
                "type": "string",
                "enum": ["gear fitting", "repair drop-off", "bike service", "virtual consultation"],
            },
            "date": {"type": "string", "format": "date"},
            "location": {"type": "string"},
        },
        ["service", "date"],
    ),
    function_tool(
        "reschedule_appointment",
        "Move an existing booking to a new start time.",
        {"booking_id": {"type": "integer"}, "new_start": {"type": "string", "format": "date-time"}},
        ["booking_id", "new_start"],
    ),
    function_tool(
        "cancel_order",
        "Cancel an order that has not shipped yet.",
        {"order_number": {"type": "string"}, "reason": {"type": "string"}},
        ["order_number"],
    ),
    function_tool(
        "create_ticket",
        "Open a support ticket so a human agent follows up.",
        {
            "summary": {"type": "string"},
            "priority": {"type": "string", "enum": ["low", "normal", "high"]},
        },
        ["summary"],
    ),
]


@pytest.fixture
def support_tools() -> list[dict[str, Any]]:
    """The five support tools in OpenAI's format."""
    return SUPPORT_TOOLS


@pytest.fixture
def sources_system() -> str:
    """A system prompt carrying a two-passage ``<sources>`` block."""
    return SOURCES_SYSTEM


@pytest.fixture
def anthropic_tools() -> list[dict[str, Any]]:
    """The five support tools in Anthropic's format."""
    return [
        {
            "name": t["function"]["name"],
            "description": t["function"]["description"],
            "input_schema": t["function"]["parameters"],
        }
        for t in SUPPORT_TOOLS
    ]
