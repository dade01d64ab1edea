"""Build one ``ChatProvider`` per provider from settings: real when its key is set, else simulated.

Each provider switches on its own: an OpenAI key with no Anthropic key gives real OpenAI and
simulated Anthropic. Azure is real only when both ``AZURE_OPENAI_API_KEY`` and
``AZURE_OPENAI_ENDPOINT`` are set. Every SDK client has ``max_retries=0`` (the router retries)
and passes through the caller's instrumentation callables, so simulated calls are traced too.
Given a ``FaultPlan``, a real provider's clients go through ``fault_injection`` in front of the
network, so the same faults fire online as offline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import anthropic
import httpx2
import openai
from pydantic import SecretStr

from core.providers.anthropic_provider import AnthropicChatProvider
from core.providers.azure_provider import AzureChatProvider, resolve_deployments
from core.providers.base import ChatProvider
from core.providers.catalogue import ProviderName
from core.providers.errors import UnknownModel
from core.providers.openai_provider import OpenAIChatProvider
from core.settings import ProviderSettings, Settings

if TYPE_CHECKING:
    from core.faults import FaultPlan
    from core.simulator import RequestRecorder

Instrument = Callable[[Any], Any]
"""Takes an SDK client (sync or async) and returns it instrumented."""

SIMULATOR_URL = "https://simulator.invalid"
LABELS: dict[ProviderName, str] = {
    "openai": "OpenAI",
    "anthropic": "Anthropic",
    "azure": "Azure OpenAI",
}


@dataclass(frozen=True)
class _Network:
    """Keyword arguments giving a real provider's sync and async SDK clients their HTTP client:
    the SDK's default one (its timeouts and connection limits) over the fault injector, or
    nothing (the SDK's own) without a fault plan."""

    sync: dict[str, Any]
    async_: dict[str, Any]


_NetworkFor = Callable[[ProviderName], _Network]


@dataclass(frozen=True)
class ProviderStatus:
    """Whether a provider answers for real or from the offline simulator, and why."""

    provider: ProviderName
    label: str
    mode: Literal["real", "simulated"]
    location: str
    detail: str


@dataclass(frozen=True)
class ProviderSet:
    """The app's providers by name (``openai``, ``anthropic``, ``azure``)."""

    by_name: Mapping[str, ChatProvider]
    statuses: tuple[ProviderStatus, ...]

    def describe(self) -> list[ProviderStatus]:
        """One status per provider, in the order OpenAI, Anthropic, Azure."""
        return list(self.statuses)

    def get(self, name: str) -> ChatProvider:
        """The provider called ``name``; raises ``UnknownModel`` for any other name."""
        if name not in self.by_name:
            known = ", ".join(self.by_name)
            raise UnknownModel(f"There is no provider {name!r}; choose one of: {known}.")
        return self.by_name[name]

    @property
    def embedding_client(self) -> ChatProvider:
        """The provider whose ``embed`` serves OpenAI embedding models (real or simulated)."""
        return self.by_name["openai"]


def create_providers(
    settings: Settings,
    *,
    instrument_openai: Instrument | None = None,
    instrument_anthropic: Instrument | None = None,
    faults: FaultPlan | None = None,
    recorder: RequestRecorder | None = None,
    upstream: httpx2.BaseTransport | None = None,
    async_upstream: httpx2.AsyncBaseTransport | None = None,
) -> ProviderSet:
    """OpenAI, Anthropic and Azure providers, each real when its key is set, else simulated.

    ``faults`` reaches the simulator and the real providers' fault-injecting transports (one
    plan for all); ``recorder`` the simulator. ``upstream`` / ``async_upstream`` stand in for
    the network behind the real providers (tests; default: httpx2's own transports).
    """
    config = settings.providers
    wrap_openai = instrument_openai or _unchanged
    wrap_anthropic = instrument_anthropic or _unchanged
    deployments = resolve_deployments(config.azure_deployments)
    transport: Any = None
    if not (config.openai_api_key and config.anthropic_api_key and _azure_is_real(config)):
        from core.simulator import create_simulator_transport

        transport = create_simulator_transport(
            speed=config.simulator_speed,
            seed=config.simulator_seed,
            faults=faults,
            recorder=recorder,
            deployments=deployments,
        )

    def network(provider: ProviderName) -> _Network:
        if faults is None:
            return _Network({}, {})
        from core.providers.fault_injection import create_fault_injector

        injector = create_fault_injector(
            faults,
            provider,
            deployments=deployments,
            upstream=upstream,
            async_upstream=async_upstream,
        )
        sdk: Any = anthropic if provider == "anthropic" else openai
        return _Network(
            {"http_client": sdk.DefaultHttpxClient(transport=injector)},
            {"http_client": sdk.DefaultAsyncHttpxClient(transport=injector)},
        )

    builders = (
        _openai(config, transport, wrap_openai, network),
        _anthropic(config, transport, wrap_anthropic, network),
        _azure(config, transport, wrap_openai, deployments, network),
    )
    return ProviderSet(
        by_name={provider.name: provider for provider, _ in builders},
        statuses=tuple(status for _, status in builders),
    )


def _openai(
    config: ProviderSettings, transport: Any, wrap: Instrument, network: _NetworkFor
) -> tuple[ChatProvider, ProviderStatus]:
    common: dict[str, Any] = {"max_retries": 0, "timeout": config.request_timeout_s}
    key = _secret(config.openai_api_key)
    if key is not None:
        real = network("openai")
        sync = openai.OpenAI(api_key=key, **common, **real.sync)
        async_ = openai.AsyncOpenAI(api_key=key, **common, **real.async_)
        status = _real("openai", "api.openai.com", "OPENAI_API_KEY is set.")
    else:
        sim = {**common, "api_key": "simulated", "base_url": f"{SIMULATOR_URL}/v1"}
        sync = openai.OpenAI(**sim, http_client=httpx2.Client(transport=transport))
        async_ = openai.AsyncOpenAI(**sim, http_client=httpx2.AsyncClient(transport=transport))
        status = _simulated("openai", "OPENAI_API_KEY")
    provider = OpenAIChatProvider(wrap(sync), wrap(async_), simulated=key is None)
    return provider, status


def _anthropic(
    config: ProviderSettings, transport: Any, wrap: Instrument, network: _NetworkFor
) -> tuple[ChatProvider, ProviderStatus]:
    common: dict[str, Any] = {"max_retries": 0, "timeout": config.request_timeout_s}
    key = _secret(config.anthropic_api_key)
    if key is not None:
        real = network("anthropic")
        sync = anthropic.Anthropic(api_key=key, **common, **real.sync)
        async_ = anthropic.AsyncAnthropic(api_key=key, **common, **real.async_)
        status = _real("anthropic", "api.anthropic.com", "ANTHROPIC_API_KEY is set.")
    else:
        sim = {**common, "api_key": "simulated", "base_url": SIMULATOR_URL}
        sync = anthropic.Anthropic(**sim, http_client=httpx2.Client(transport=transport))
        async_ = anthropic.AsyncAnthropic(
            **sim, http_client=httpx2.AsyncClient(transport=transport)
        )
        status = _simulated("anthropic", "ANTHROPIC_API_KEY")
    provider = AnthropicChatProvider(wrap(sync), wrap(async_), simulated=key is None)
    return provider, status


def _azure(
    config: ProviderSettings,
    transport: Any,
    wrap: Instrument,
    deployments: Mapping[str, str],
    network: _NetworkFor,
) -> tuple[ChatProvider, ProviderStatus]:
    common: dict[str, Any] = {
        "max_retries": 0,
        "timeout": config.request_timeout_s,
        "api_version": config.azure_api_version,
    }
    served = ", ".join(f"{d} → {m}" for d, m in deployments.items())
    if _azure_is_real(config):
        real = {
            **common,
            "api_key": _secret(config.azure_openai_api_key),
            "azure_endpoint": config.azure_openai_endpoint,
        }
        clients = network("azure")
        sync = openai.AzureOpenAI(**real, **clients.sync)
        async_ = openai.AsyncAzureOpenAI(**real, **clients.async_)
        detail = f"AZURE_OPENAI_API_KEY and AZURE_OPENAI_ENDPOINT are set. Deployments: {served}."
        status = _real("azure", str(config.azure_openai_endpoint), detail)
    else:
        sim = {**common, "api_key": "simulated", "azure_endpoint": SIMULATOR_URL}
        sync = openai.AzureOpenAI(**sim, http_client=httpx2.Client(transport=transport))
        async_ = openai.AsyncAzureOpenAI(**sim, http_client=httpx2.AsyncClient(transport=transport))
        keys = "AZURE_OPENAI_API_KEY and AZURE_OPENAI_ENDPOINT"
        status = _simulated("azure", keys, f" Deployments: {served}.")
    provider = AzureChatProvider(
        wrap(sync), wrap(async_), simulated=status.mode == "simulated", deployments=deployments
    )
    return provider, status


def _azure_is_real(config: ProviderSettings) -> bool:
    return _secret(config.azure_openai_api_key) is not None and bool(config.azure_openai_endpoint)


def _secret(value: SecretStr | None) -> str | None:
    if value is None or not value.get_secret_value().strip():
        return None
    return value.get_secret_value().strip()


def _real(provider: ProviderName, location: str, detail: str) -> ProviderStatus:
    return ProviderStatus(provider, LABELS[provider], "real", location, detail)


def _simulated(provider: ProviderName, keys: str, more: str = "") -> ProviderStatus:
    detail = f"Answered offline by the simulator; set {keys} to use the real API.{more}"
    return ProviderStatus(provider, LABELS[provider], "simulated", "offline simulator", detail)


def _unchanged(client: Any) -> Any:
    return client
