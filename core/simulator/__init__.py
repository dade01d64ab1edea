"""An offline LLM simulator speaking the OpenAI, Azure OpenAI and Anthropic wire formats.

    transport = create_simulator_transport(speed=0, seed=7)
    client = openai.OpenAI(api_key="sim", base_url="https://simulator.invalid/v1",
                           max_retries=0, http_client=httpx2.Client(transport=transport))

Answers are composed from the request (sources, tool results, conversation), tools are called
with arguments read from the user's words, and faults are injected through a ``FaultPlan``.
"""

from core.simulator.faults import Fault, FaultKind, FaultPlan, PendingFault
from core.simulator.recorder import RecordedRequest, RequestRecorder
from core.simulator.transport import SimulatorTransport, create_simulator_transport

__all__ = [
    "Fault",
    "FaultKind",
    "FaultPlan",
    "PendingFault",
    "RecordedRequest",
    "RequestRecorder",
    "SimulatorTransport",
    "create_simulator_transport",
]
