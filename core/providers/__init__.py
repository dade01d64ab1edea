"""LLM providers behind one small interface (``base``), a model catalogue (``catalogue``),
and a factory choosing real or simulated clients per provider (``factory``).

    providers = create_providers(settings)
    provider = providers.get("anthropic")
    reply = provider.chat(ChatRequest(model="claude-3-5-haiku",
                                      messages=[ChatMessage(role="user", content="Hi")]))
"""

from core.providers.base import (
    ChatChunk,
    ChatMessage,
    ChatProvider,
    ChatRequest,
    ChatResponse,
    EmbeddingResult,
    StreamItem,
    ToolCall,
    ToolSpec,
)
from core.providers.catalogue import ModelInfo, ProviderName, get_model, list_models
from core.providers.factory import ProviderSet, ProviderStatus, create_providers

__all__ = [
    "ChatChunk",
    "ChatMessage",
    "ChatProvider",
    "ChatRequest",
    "ChatResponse",
    "EmbeddingResult",
    "ModelInfo",
    "ProviderName",
    "ProviderSet",
    "ProviderStatus",
    "StreamItem",
    "ToolCall",
    "ToolSpec",
    "create_providers",
    "get_model",
    "list_models",
]
