"""Hand-built OpenAI and Anthropic HTTP exchanges, served by ``httpx2.MockTransport``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import anthropic
import httpx2
import openai

Handler = Callable[[httpx2.Request], httpx2.Response]


@dataclass
class Server:
    """Answers every request with the next queued response; keeps the request bodies."""

    responses: list[httpx2.Response] = field(default_factory=list)
    bodies: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.bodies.append(json.loads(request.content or b"{}"))
        return self.responses.pop(0)

    def reply(self, response: httpx2.Response) -> Server:
        self.responses.append(response)
        return self


def openai_client(server: Handler, *, is_async: bool = False, azure: bool = False) -> Any:
    """An OpenAI (or Azure) client, sync or async, answered by ``server``."""
    transport = httpx2.MockTransport(server)
    http = (
        httpx2.AsyncClient(transport=transport) if is_async else httpx2.Client(transport=transport)
    )
    common: dict[str, Any] = {"api_key": "test", "max_retries": 0, "http_client": http}
    if azure:
        cls = openai.AsyncAzureOpenAI if is_async else openai.AzureOpenAI
        return cls(
            api_version="2024-10-21", azure_endpoint="https://northwind.openai.azure.com", **common
        )
    cls = openai.AsyncOpenAI if is_async else openai.OpenAI
    return cls(base_url="https://api.test/v1", **common)


def anthropic_client(server: Handler, *, is_async: bool = False) -> Any:
    """An Anthropic client, sync or async, answered by ``server``."""
    transport = httpx2.MockTransport(server)
    if is_async:
        return anthropic.AsyncAnthropic(
            api_key="test",
            max_retries=0,
            base_url="https://api.test",
            http_client=httpx2.AsyncClient(transport=transport),
        )
    return anthropic.Anthropic(
        api_key="test",
        max_retries=0,
        base_url="https://api.test",
        http_client=httpx2.Client(transport=transport),
    )


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> httpx2.Response:
    return httpx2.Response(status, json=body, headers=headers or {})


def chat_completion(
    *,
    model: str = "gpt-4o-2024-08-06",
    content: str | None = "Your order ORD-10001 shipped.",
    prompt_tokens: int = 1200,
    completion_tokens: int = 80,
    cached_tokens: int = 0,
    tool_calls: list[dict[str, Any]] | None = None,
    finish_reason: str = "stop",
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": cached_tokens},
        },
    }


def tool_call(call_id: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": json.dumps(arguments)},
    }


def sse(events: Iterable[bytes], *, fail_after: int | None = None) -> httpx2.Response:
    """A server-sent-event response; ``fail_after`` drops the connection after that many events."""

    if fail_after is None:
        return httpx2.Response(
            200, headers={"content-type": "text/event-stream"}, content=b"".join(events)
        )

    def body() -> Iterator[bytes]:
        for index, event in enumerate(events):
            if fail_after is not None and index >= fail_after:
                raise httpx2.ReadError("connection reset by peer")
            yield event

    return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body())


def openai_chunks(
    words: list[str],
    *,
    model: str = "gpt-4o-mini-2024-07-18",
    usage: bool = True,
    prompt_tokens: int = 50,
    completion_tokens: int = 3,
) -> list[bytes]:
    def chunk(choices: list[dict[str, Any]], extra: dict[str, Any] | None = None) -> bytes:
        body = {
            "id": "chatcmpl-s",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": model,
            "choices": choices,
            **(extra or {}),
        }
        return f"data: {json.dumps(body)}\n\n".encode()

    events = [chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}}])]
    events += [chunk([{"index": 0, "delta": {"content": word}}]) for word in words]
    events.append(chunk([{"index": 0, "delta": {}, "finish_reason": "stop"}]))
    if usage:
        events.append(
            chunk(
                [],
                {
                    "usage": {
                        "prompt_tokens": prompt_tokens,
                        "completion_tokens": completion_tokens,
                        "total_tokens": prompt_tokens + completion_tokens,
                    }
                },
            )
        )
    return [*events, b"data: [DONE]\n\n"]


def anthropic_message(
    *,
    model: str = "claude-3-5-haiku-20241022",
    text: str | None = "Returns are free within 30 days.",
    tool_use: dict[str, Any] | None = None,
    input_tokens: int = 100,
    output_tokens: int = 40,
    cache_read: int = 0,
    cache_write: int = 0,
) -> dict[str, Any]:
    content: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
    if tool_use:
        content.append({"type": "tool_use", **tool_use})
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": "tool_use" if tool_use else "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cache_read_input_tokens": cache_read,
            "cache_creation_input_tokens": cache_write,
        },
    }


def anthropic_events(
    words: list[str],
    *,
    model: str = "claude-3-5-haiku-20241022",
    input_tokens: int = 30,
    output_tokens: int = 12,
    cache_read: int = 0,
) -> list[bytes]:
    def event(kind: str, data: dict[str, Any]) -> bytes:
        return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n".encode()

    message = {
        "id": "msg_s",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {
            "input_tokens": input_tokens,
            "output_tokens": 1,
            "cache_read_input_tokens": cache_read,
            "cache_creation_input_tokens": 0,
        },
    }
    events = [
        event("message_start", {"message": message}),
        event("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}),
    ]
    events += [
        event("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": word}})
        for word in words
    ]
    events += [
        event("content_block_stop", {"index": 0}),
        event(
            "message_delta",
            {
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": output_tokens},
            },
        ),
        event("message_stop", {}),
    ]
    return events
