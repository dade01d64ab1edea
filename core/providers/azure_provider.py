"""Azure OpenAI on ``openai.AzureOpenAI``: the OpenAI mapping, with models named by deployment.

``settings.providers.azure_deployments`` maps deployment → model (``{"support-4o": "gpt-4o"}``).
A request may name the model (the first deployment serving it is used) or the deployment itself.
When the map is empty, every OpenAI catalogue model gets a deployment of the same name — the
simulator's default and a common convention on Azure.
"""

from __future__ import annotations

from collections.abc import Mapping

import openai

from core.providers.catalogue import get_model, list_models
from core.providers.errors import UnknownModel
from core.providers.openai_provider import OpenAIChatProvider


def default_deployments() -> dict[str, str]:
    """One deployment per OpenAI catalogue model, named like the model."""
    return {info.name: info.name for info in list_models() if info.provider == "openai"}


def resolve_deployments(configured: Mapping[str, str]) -> dict[str, str]:
    """The configured deployment → model map (names checked against the catalogue), or the
    default map when none is configured."""
    if not configured:
        return default_deployments()
    resolved: dict[str, str] = {}
    for deployment, model in configured.items():
        info = get_model(model)
        if info.provider != "openai":
            raise UnknownModel(
                f"Azure deployment {deployment!r} names {model}, which is not an OpenAI model; "
                "fix PROVIDERS__AZURE_DEPLOYMENTS."
            )
        resolved[deployment] = info.name
    return resolved


class AzureChatProvider(OpenAIChatProvider):
    """Chat and embeddings through ``openai.AzureOpenAI`` / ``openai.AsyncAzureOpenAI``."""

    label = "Azure OpenAI"

    def __init__(
        self,
        client: openai.AzureOpenAI,
        async_client: openai.AsyncAzureOpenAI | None = None,
        *,
        simulated: bool,
        deployments: Mapping[str, str],
    ) -> None:
        super().__init__(client, async_client, simulated=simulated, name="azure")
        self.deployments = dict(deployments)

    def serves(self, model: str) -> bool:
        """True when a deployment serves ``model`` (or ``model`` is a deployment name)."""
        try:
            self.model_id(model)
        except UnknownModel:
            return False
        return True

    def model_id(self, model: str) -> str:
        """The deployment name to send for ``model``."""
        if model in self.deployments:
            return model
        try:
            name = get_model(model).name
        except UnknownModel:
            name = model
        for deployment, served in self.deployments.items():
            if served == name:
                return deployment
        known = ", ".join(f"{d} → {m}" for d, m in self.deployments.items()) or "none"
        raise UnknownModel(
            f"No Azure deployment serves {model}; add one to PROVIDERS__AZURE_DEPLOYMENTS "
            f"(now: {known})."
        )
