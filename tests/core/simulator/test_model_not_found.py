"""Each simulated API serves only its own provider's models, answering others with its 404."""

from __future__ import annotations

import anthropic
import httpx2
import openai
import pytest

from core.providers.azure_provider import AzureChatProvider
from core.providers.base import ChatMessage, ChatRequest
from core.providers.errors import UnknownModel
from tests.core.simulator.conftest import BASE_URL

HELLO = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize("model", ["claude-3-opus", "claude-3-opus-20240229", "gpt-99"])
def test_the_openai_api_answers_404_for_models_it_does_not_serve(openai_client, model):
    with pytest.raises(openai.NotFoundError) as caught:
        openai_client.chat.completions.create(model=model, messages=HELLO)

    assert caught.value.status_code == 404
    assert caught.value.response.json() == {
        "error": {
            "message": f"The model `{model}` does not exist or you do not have access to it.",
            "type": "invalid_request_error",
            "param": None,
            "code": "model_not_found",
        }
    }


def test_the_openai_stream_answers_404_before_any_chunk(openai_client):
    with pytest.raises(openai.NotFoundError):
        openai_client.chat.completions.create(model="claude-3-sonnet", messages=HELLO, stream=True)


def test_an_azure_deployment_of_a_claude_model_does_not_exist(azure_client):
    with pytest.raises(openai.NotFoundError) as caught:
        azure_client.chat.completions.create(model="claude-3-opus", messages=HELLO)

    assert caught.value.response.json()["error"]["code"] == "DeploymentNotFound"


@pytest.mark.parametrize("model", ["gpt-4o", "text-embedding-3-small", "claude-9"])
def test_the_anthropic_api_answers_404_for_models_it_does_not_serve(anthropic_client, model):
    with pytest.raises(anthropic.NotFoundError) as caught:
        anthropic_client.messages.create(model=model, max_tokens=20, messages=HELLO)

    body = caught.value.response.json()
    assert body["type"] == "error"
    assert body["error"] == {"type": "not_found_error", "message": f"model: {model}"}


def test_the_anthropic_token_count_refuses_a_gpt_model(anthropic_client):
    with pytest.raises(anthropic.NotFoundError):
        anthropic_client.messages.count_tokens(model="gpt-4o", messages=HELLO)


def test_a_deployment_missing_on_the_resource_is_an_unknown_model(make_transport):
    client = openai.AzureOpenAI(
        api_key="sim",
        azure_endpoint=BASE_URL,
        api_version="2024-10-21",
        max_retries=0,
        http_client=httpx2.Client(transport=make_transport(deployments={})),
    )
    azure = AzureChatProvider(client, simulated=True, deployments={"support-4o": "gpt-4o"})

    with pytest.raises(UnknownModel, match="Azure OpenAI"):
        azure.chat(ChatRequest("gpt-4o", [ChatMessage("user", "hi")]))
