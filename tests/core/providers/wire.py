"""Hand-built HTTP exchanges for the provider adapters: recorded requests, scripted answers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import anthropic
import httpx2
import openai

Answer = httpx2.Response | Exception


@dataclass
class Exchange:
    """An ``httpx2.MockTransport`` handing out scripted answers in order, keeping each request."""

    answers: list[Answer]
    requests: list[httpx2.Request] = field(default_factory=list)

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def body(self, index: int = -1) -> dict[str, Any]:
        return dict(json.loads(self.requests[index].content))

    def transport(self) -> httpx2.MockTransport:
        return httpx2.MockTransport(self.handle)


def openai_client(exchange: Exchange) -> openai.OpenAI:
    return openai.OpenAI(
        api_key="sk-test",
        base_url="https://api.test/v1",
        max_retries=0,
        http_client=httpx2.Client(transport=exchange.transport()),
    )


def anthropic_client(exchange: Exchange) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        api_key="sk-ant-test",
        base_url="https://api.test",
        max_retries=0,
        http_client=httpx2.Client(transport=exchange.transport()),
    )


def json_answer(body: dict[str, Any], status: int = 200, **headers: str) -> httpx2.Response:
    return httpx2.Response(status, json=body, headers=headers)


def error_answer(status: int, message: str = "nope", **headers: str) -> httpx2.Response:
    body = {"error": {"message": message, "type": "error", "code": None}}
    return httpx2.Response(status, json=body, headers=headers)


def sse_answer(events: list[tuple[str | None, dict[str, Any] | str]]) -> httpx2.Response:
    lines = []
    for event, data in events:
        payload = data if isinstance(data, str) else json.dumps(data)
        lines.append((f"event: {event}\n" if event else "") + f"data: {payload}\n\n")
    return httpx2.Response(
        200, content="".join(lines).encode(), headers={"content-type": "text/event-stream"}
    )


def completion(
    text: str | None = "Hello!",
    *,
    model: str = "gpt-4o-mini-2024-07-18",
    tool_calls: list[dict[str, Any]] | None = None,
    usage: tuple[int, int, int] = (12, 5, 0),
    finish_reason: str = "stop",
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": {
            "prompt_tokens": usage[0],
            "completion_tokens": usage[1],
            "total_tokens": usage[0] + usage[1],
            "prompt_tokens_details": {"cached_tokens": usage[2]},
        },
    }


def chunk(
    delta: dict[str, Any] | None,
    *,
    finish: str | None = None,
    usage: Any = None,
    model: str = "gpt-4o-mini-2024-07-18",
) -> tuple[None, dict[str, Any]]:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    body = {
        "id": "c1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": model,
        "choices": choices,
        "usage": usage,
    }
    return None, body


def message(
    content: list[dict[str, Any]],
    *,
    stop_reason: str = "end_turn",
    usage: dict[str, int] | None = None,
    model: str = "claude-3-5-haiku-20241022",
) -> dict[str, Any]:
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": usage or {"input_tokens": 20, "output_tokens": 7},
    }
