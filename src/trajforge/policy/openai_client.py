"""Assistant turns from any OpenAI-compatible endpoint (vLLM, SGLang, llama.cpp, hosted APIs)."""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import openai
from openai.types.chat import ChatCompletion

from trajforge.policy.base import Completion, ContextLengthExceeded, ModelError, Recovery
from trajforge.policy.endpoints import EndpointPool
from trajforge.trace import Message, Usage, parse_call, split_inline_think

_CONTEXT_WORDS = re.compile(
    r"context length|context window|maximum context|too many tokens|prompt is too long|input is too long", re.I
)


@dataclass(frozen=True)
class ModelConfig:
    """Where the model is served and how it is sampled."""

    endpoint: str
    """Base URL of the OpenAI-compatible API, e.g. http://localhost:8000/v1."""
    model: str
    more_endpoints: tuple[str, ...] = ()
    """Other base URLs serving the same model; requests go to the least-loaded healthy one."""
    api_key: str = field(default="", repr=False)
    """Never logged, recorded or passed to tools."""
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    extra_body: dict[str, Any] = field(default_factory=dict)
    """Sent as is, e.g. {"chat_template_kwargs": {"enable_thinking": true}}."""
    reasoning_fields: tuple[str, ...] = ("reasoning", "reasoning_content")
    """Fields earlier reasoning is sent back in (servers differ; vLLM renamed the field)."""
    timeout: float = 600.0
    """Seconds one request may take before it is retried."""
    max_retries: int = 6
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    rest_seconds: float = 30.0
    """How long an endpoint that failed three requests in a row is left alone."""

    @property
    def endpoints(self) -> list[str]:
        """Every base URL, the first one first."""
        return [self.endpoint, *self.more_endpoints]

    def sampling(self) -> dict[str, Any]:
        """The sampling parameters that are set (what the record keeps)."""
        values = {"temperature": self.temperature, "top_p": self.top_p, "max_tokens": self.max_tokens}
        chosen: dict[str, Any] = {k: v for k, v in values.items() if v is not None}
        if self.extra_body:
            chosen["extra_body"] = self.extra_body
        return chosen


def classify(error: Exception) -> Recovery:
    """Sort a failed call into what to do next."""
    if isinstance(error, openai.APIConnectionError | openai.RateLimitError | openai.InternalServerError):
        return Recovery.RETRY  # APITimeoutError is an APIConnectionError
    if isinstance(error, openai.APIStatusError):
        if error.status_code in (408, 409, 429) or error.status_code >= 500:
            return Recovery.RETRY
        if error.status_code in (400, 413, 422) and _CONTEXT_WORDS.search(str(error.message)):
            return Recovery.END_CONTEXT
    return Recovery.END_ERROR


class OpenAIPolicy:
    """A Policy backed by `openai.AsyncOpenAI`, with retries and backoff of our own."""

    def __init__(self, config: ModelConfig) -> None:
        self.config = config
        self.pool = EndpointPool(
            config.endpoints,
            lambda url: openai.AsyncOpenAI(
                base_url=url, api_key=config.api_key or "EMPTY", max_retries=0, timeout=config.timeout
            ),
            rest_seconds=config.rest_seconds,
        )

    async def close(self) -> None:
        """Close the HTTP connections."""
        await self.pool.close()

    async def complete(self, messages: list[Message], tools: list[dict[str, Any]]) -> Completion:
        """The next assistant turn; transient failures are retried with exponential backoff and jitter."""
        request = self._request(messages, tools)
        started = time.perf_counter()
        for attempt in range(self.config.max_retries + 1):
            endpoint = self.pool.acquire()
            recovery: Recovery | None = None
            try:
                # post() with our own body, not chat.completions.create(): create() walks every
                # message through the SDK's type transform, ~30 ms per call at 40 messages.
                response = await endpoint.client.post("/chat/completions", body=request, cast_to=ChatCompletion)
            except openai.OpenAIError as exc:
                recovery, failure = classify(exc), _describe(exc)
            finally:  # also when cancelled mid-request: the endpoint's load must come back down
                self.pool.release(endpoint, ok=recovery is not Recovery.RETRY)
            if recovery is None:
                break
            if recovery is Recovery.END_CONTEXT:
                raise ContextLengthExceeded(failure)
            if recovery is Recovery.END_ERROR or attempt == self.config.max_retries:
                raise ModelError(failure)
            delay = min(self.config.backoff_max, self.config.backoff_base * 2**attempt)
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
        if not response.choices:
            raise ModelError("the response has no choices")
        message = parse_message(response.choices[0].message)
        usage = response.usage
        return Completion(
            message=message,
            usage=Usage(usage.prompt_tokens, usage.completion_tokens) if usage else Usage(),
            seconds=time.perf_counter() - started,
        )

    def _request(self, messages: list[Message], tools: list[dict[str, Any]]) -> dict[str, Any]:
        config = self.config
        request: dict[str, Any] = {
            "model": config.model,
            "messages": to_openai_messages(messages, config.reasoning_fields),
            "stream": False,
        }
        if tools:
            request.update(tools=tools, tool_choice="auto")
        for name in ("temperature", "top_p", "max_tokens"):
            if getattr(config, name) is not None:
                request[name] = getattr(config, name)
        request.update(config.extra_body)  # as the SDK does with extra_body: merged into the JSON body
        return request


def _describe(error: Exception) -> str:
    if isinstance(error, openai.APIStatusError):
        return f"HTTP {error.status_code}: {error.message}"
    return f"{type(error).__name__}: {error}"


def to_openai_messages(messages: list[Message], reasoning_fields: Sequence[str]) -> list[dict[str, Any]]:
    """Chat messages as the API takes them; earlier reasoning goes back in `reasoning_fields`."""
    payload: list[dict[str, Any]] = []
    for message in messages:
        item: dict[str, Any] = {"role": message.role, "content": message.content}
        if message.role == "assistant":
            if message.reasoning:
                item.update(dict.fromkeys(reasoning_fields, message.reasoning))
            if message.tool_calls:
                item["tool_calls"] = [
                    call.to_openai(
                        call.raw_arguments
                        if call.raw_arguments is not None
                        else json.dumps(call.arguments, ensure_ascii=False)
                    )
                    for call in message.tool_calls
                ]
        elif message.role == "tool":
            item["tool_call_id"] = message.tool_call_id
            item["name"] = message.name
        payload.append(item)
    return payload


def parse_message(message: Any) -> Message:
    """Our Message from the SDK's: reasoning from `reasoning`, `reasoning_content`, or inline `<think>`."""
    extra = getattr(message, "model_extra", None) or {}
    content = message.content
    reasoning = extra.get("reasoning") or extra.get("reasoning_content")
    if not reasoning and content:
        reasoning, content = split_inline_think(content)
    calls = [
        parse_call(call.id or f"call_{index}", call.function.name, call.function.arguments)
        for index, call in enumerate(message.tool_calls or [])
    ]
    return Message(role="assistant", content=content or None, reasoning=reasoning or None, tool_calls=calls)
