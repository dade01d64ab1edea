"""The OpenAI (and Azure OpenAI) wire format: chat completions, SSE chunks, embeddings, errors."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from core.simulator.intents import ANY_TOOL
from core.simulator.messages import Provider, Reply, Role, SimRequest, ToolDef, ToolUse, Turn
from core.simulator.wire import (
    Chunk,
    IdSource,
    WireResponse,
    json_response,
    sse_event,
    sse_response,
    text_pieces,
)
from core.tokens import count_message_tokens, count_tokens

_ERROR_TYPES = {
    429: ("rate_limit_exceeded", "requests"),
    404: ("model_not_found", "invalid_request_error"),
    400: ("invalid_request", "invalid_request_error"),
}
_NO_DEPLOYMENT = (
    "The API deployment for this resource does not exist. If you created the deployment within "
    "the last 5 minutes, please wait a moment and try again."
)
_FILTER = {
    "hate": {"filtered": False, "severity": "safe"},
    "self_harm": {"filtered": False, "severity": "safe"},
    "sexual": {"filtered": False, "severity": "safe"},
    "violence": {"filtered": False, "severity": "safe"},
}


def parse_chat(body: Mapping[str, Any], provider: Provider) -> SimRequest:
    """A chat-completions body as the simulator's neutral request."""
    system: list[str] = []
    turns: list[Turn] = []
    for message in body.get("messages", []):
        role = message.get("role")
        text = _text_of(message.get("content"))
        if role in ("system", "developer"):
            system.append(text)
        elif role == "tool":
            turns.append(Turn(Role.TOOL, text, tool_use_id=message.get("tool_call_id")))
        elif role == "assistant":
            turns.append(Turn(Role.ASSISTANT, text, _tool_uses(message.get("tool_calls"))))
        else:
            turns.append(Turn(Role.USER, text))
    tools, forced = _tools(body)
    response_format = body.get("response_format") or {}
    schema = (response_format.get("json_schema") or {}).get("schema")
    return SimRequest(
        provider=provider,
        model=str(body.get("model", "")),
        system="\n\n".join(system),
        turns=tuple(turns),
        tools=tools,
        forced_tool=forced,
        json_schema=schema if response_format.get("type") == "json_schema" else None,
        json_mode=response_format.get("type") == "json_object",
        stream=bool(body.get("stream")),
        include_usage=bool((body.get("stream_options") or {}).get("include_usage")),
        max_tokens=body.get("max_completion_tokens") or body.get("max_tokens"),
    )


def prompt_tokens(body: Mapping[str, Any], model: str) -> int:
    """Prompt tokens as OpenAI bills them: messages with their overhead, plus tool definitions."""
    tools = body.get("tools") or []
    tool_tokens = count_tokens(json.dumps(tools), model) if tools else 0
    return count_message_tokens(body.get("messages", []), model) + tool_tokens


def render_chat(
    request: SimRequest,
    reply: Reply,
    *,
    model: str,
    ids: IdSource,
    input_tokens: int,
    cached_tokens: int = 0,
) -> WireResponse:
    """The completion (or SSE chunk stream) carrying ``reply``."""
    completion_id = ids.new("chatcmpl-", 29)
    calls = [_call_json(use) for use in reply.tool_uses]
    output = count_tokens(reply.text, model) + sum(
        count_tokens(call["function"]["name"] + call["function"]["arguments"], model)
        for call in calls
    )
    usage = _usage(input_tokens, output, cached_tokens)
    base = {
        "id": completion_id,
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "fp_" + completion_id[-10:].lower(),
    }
    if request.provider is Provider.AZURE:
        base["prompt_filter_results"] = [{"prompt_index": 0, "content_filter_results": _FILTER}]
    headers = {"x-request-id": ids.new("req_", 32), "openai-processing-ms": "1"}
    if request.stream:
        return sse_response(_chunks(request, reply, calls, base, usage, model), headers)
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None, "refusal": None}
    if calls:
        message["tool_calls"] = calls
    choice = {
        "index": 0,
        "message": message,
        "logprobs": None,
        "finish_reason": reply.finish_reason,
    }
    if request.provider is Provider.AZURE:
        choice["content_filter_results"] = _FILTER
    body = {**base, "object": "chat.completion", "choices": [choice], "usage": usage}
    return json_response(200, body, headers, tokens=output)


def parse_embedding_inputs(body: Mapping[str, Any]) -> list[str]:
    """The texts to embed (token-id inputs are read as space-joined numbers)."""
    raw = body.get("input", [])
    items = [raw] if isinstance(raw, str) or (raw and isinstance(raw[0], int)) else list(raw)
    return [item if isinstance(item, str) else " ".join(map(str, item)) for item in items]


def render_embeddings(
    body: Mapping[str, Any],
    vectors: np.ndarray,
    *,
    model: str,
    native: int | None,
    ids: IdSource,
) -> WireResponse:
    """An embeddings list, float or base64 as asked, zero-padded to the model's ``native``
    dimension (or cut and re-normalised to the request's ``dimensions``)."""
    texts = parse_embedding_inputs(body)
    wanted = int(body.get("dimensions") or native or vectors.shape[1])
    shaped = _fit_dimensions(np.asarray(vectors, dtype=np.float32), wanted)
    as_base64 = body.get("encoding_format") == "base64"
    data = [
        {
            "object": "embedding",
            "index": index,
            "embedding": base64.b64encode(row.tobytes()).decode() if as_base64 else row.tolist(),
        }
        for index, row in enumerate(shaped)
    ]
    tokens = sum(count_tokens(text, model) for text in texts)
    result = {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
    return json_response(200, result, {"x-request-id": ids.new("req_", 32)})


def render_error(
    status: int, message: str, ids: IdSource, headers: Mapping[str, str] | None = None
) -> WireResponse:
    """OpenAI's error body for ``status`` (429 rate limit, 5xx server error, 404, 400)."""
    code, kind = _ERROR_TYPES.get(status, (None, "server_error"))
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return json_response(status, body, {"x-request-id": ids.new("req_", 32), **(headers or {})})


def render_model_not_found(model: str, ids: IdSource, *, azure: bool) -> WireResponse:
    """The 404 OpenAI gives for a model it does not serve, or Azure for a missing deployment."""
    if azure:
        body = {"error": {"code": "DeploymentNotFound", "message": _NO_DEPLOYMENT}}
        return json_response(404, body, {"x-request-id": ids.new("req_", 32)})
    message = f"The model `{model}` does not exist or you do not have access to it."
    return render_error(404, message, ids)


def _chunks(
    request: SimRequest,
    reply: Reply,
    calls: list[dict[str, Any]],
    base: dict[str, Any],
    usage: dict[str, Any],
    model: str,
) -> list[Chunk]:
    extra = {"usage": None} if request.include_usage else {}

    def event(delta: dict[str, Any], finish: str | None = None, tokens: int = 0) -> Chunk:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        payload = {**base, "object": "chat.completion.chunk", "choices": [choice], **extra}
        return Chunk(sse_event(payload), tokens)

    chunks = [event({"role": "assistant", "content": "", "refusal": None})]
    chunks += [event({"content": piece}, tokens=n) for piece, n in text_pieces(reply.text, model)]
    for index, call in enumerate(calls):
        head = {
            "index": index,
            "id": call["id"],
            "type": "function",
            "function": {"name": call["function"]["name"], "arguments": ""},
        }
        chunks.append(event({"tool_calls": [head]}, tokens=1))
        for piece, n in text_pieces(call["function"]["arguments"], model):
            delta = {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}
            chunks.append(event(delta, tokens=n))
    chunks.append(event({}, reply.finish_reason))
    if request.include_usage:
        payload = {**base, "object": "chat.completion.chunk", "choices": [], "usage": usage}
        chunks.append(Chunk(sse_event(payload)))
    chunks.append(Chunk(sse_event("[DONE]")))
    return chunks


def _usage(input_tokens: int, output_tokens: int, cached_tokens: int) -> dict[str, Any]:
    return {
        "prompt_tokens": input_tokens,
        "completion_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens,
        "prompt_tokens_details": {"cached_tokens": cached_tokens, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _call_json(use: ToolUse) -> dict[str, Any]:
    arguments = json.dumps(use.arguments, ensure_ascii=False)
    return {
        "id": f"call_{use.id}",
        "type": "function",
        "function": {"name": use.name, "arguments": arguments},
    }


def _tools(body: Mapping[str, Any]) -> tuple[tuple[ToolDef, ...], str | None]:
    choice = body.get("tool_choice")
    if choice == "none":
        return (), None
    tools = tuple(
        ToolDef(
            name=str(tool["function"]["name"]),
            description=str(tool["function"].get("description", "")),
            parameters=tool["function"].get("parameters") or {"type": "object", "properties": {}},
        )
        for tool in body.get("tools") or []
        if tool.get("type", "function") == "function"
    )
    if choice == "required":
        return tools, ANY_TOOL
    if isinstance(choice, Mapping):
        return tools, str((choice.get("function") or {}).get("name") or ANY_TOOL)
    return tools, None


def _tool_uses(raw: Any) -> tuple[ToolUse, ...]:
    uses = []
    for call in raw or []:
        function = call.get("function", {})
        try:
            arguments = json.loads(function.get("arguments") or "{}")
        except ValueError:
            arguments = {}
        uses.append(ToolUse(str(call.get("id", "")), str(function.get("name", "")), arguments))
    return tuple(uses)


def _text_of(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "\n".join(
        str(part.get("text", "")) if part.get("type") == "text" else "[image]"
        for part in content
        if isinstance(part, Mapping)
    )


def _fit_dimensions(vectors: np.ndarray, dimensions: int) -> np.ndarray:
    width = vectors.shape[1]
    if dimensions >= width:
        return np.pad(vectors, ((0, 0), (0, dimensions - width)))
    cut = vectors[:, :dimensions]
    norms = np.linalg.norm(cut, axis=1, keepdims=True)
    return (cut / np.where(norms == 0, 1, norms)).astype(np.float32)
