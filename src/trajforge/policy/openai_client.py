"""Assistant turns from any OpenAI-compatible endpoint (vLLM, SGLang, llama.cpp, hosted APIs).

Requests go through `policy.http_client` (plain HTTP/1.1 on asyncio streams), not the
openai SDK: the SDK's httpx stack and pydantic options cost about 1.5 ms of CPU per
turn and half a second of imports per run (issue 10). The JSON sent and read is the
OpenAI chat completions API, as before.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import Sequence
from typing import Any

from trajforge.policy.base import Completion, ContextLengthExceeded, ModelError, Recovery
from trajforge.policy.chat_template import ChatTemplateError
from trajforge.policy.config import ModelConfig
from trajforge.policy.endpoints import EndpointPool
from trajforge.policy.http_client import HTTPClient, HTTPFailure, StatusError, TransportError
from trajforge.policy.replies import MalformedReply, ParsedReply, parse_message, parse_reply
from trajforge.trace import Message
from trajforge.trace.turns import dumps

__all__ = ["ModelConfig", "OpenAIPolicy", "classify", "describe", "make_client", "parse_message", "to_openai_messages"]

_CONTEXT_WORDS = re.compile(
    r"context length|context window|maximum context|too many tokens|prompt is too long|input is too long", re.I
)


def classify(error: Exception) -> Recovery:
    """Sort a failed call into what to do next."""
    if isinstance(error, TransportError):  # refused, reset, closed, timed out, not HTTP
        return Recovery.RETRY
    if isinstance(error, StatusError):
        if error.status in (408, 409, 429) or error.status >= 500:
            return Recovery.RETRY
        if error.status in (400, 413, 422) and _CONTEXT_WORDS.search(error.body.decode("utf-8", "replace")):
            return Recovery.END_CONTEXT
    return Recovery.END_ERROR


def describe(error: Exception) -> str:
    """One line for a failed request: the HTTP status and message, or what the connection did."""
    if isinstance(error, HTTPFailure):
        return str(error)
    return f"{type(error).__name__}: {error}".splitlines()[0]


def make_client(url: str, api_key: str, timeout: float) -> HTTPClient:
    """The HTTP client for one base URL; it does not retry (OpenAIPolicy does)."""
    return HTTPClient(url, api_key, timeout)


class OpenAIPolicy:
    """A Policy for an OpenAI-compatible API, with retries, backoff, an endpoint pool and a breaker."""

    def __init__(self, config: ModelConfig) -> None:
        self.config = config
        self.pool = EndpointPool(
            config.endpoints,
            lambda url: make_client(url, config.api_key, config.timeout),
            rest_seconds=config.rest_seconds,
            breaker_failures=config.breaker_failures,
        )
        self.retries = 0
        """Requests sent again after a transient failure, over this policy's life (for the run's summary)."""

    @property
    def breaker_open(self) -> bool:
        """Whether every endpoint has failed `config.breaker_failures` requests in a row; no request is sent."""
        return self.pool.breaker_open

    @property
    def breaker_reason(self) -> str | None:
        """Why the breaker is open, in one line naming each endpoint and its last error (None while closed)."""
        return self.pool.breaker_reason

    async def close(self) -> None:
        """Close the HTTP connections."""
        await self.pool.close()

    async def complete(self, messages: list[Message], tools: list[dict[str, Any]]) -> Completion:
        """The next assistant turn; raises ContextLengthExceeded or ModelError (`transient` says whether to rerun)."""
        started = time.perf_counter()
        reply = await self.exchange(messages, tools)
        return Completion(message=reply.message, usage=reply.usage, seconds=time.perf_counter() - started)

    async def exchange(self, messages: list[Message], tools: list[dict[str, Any]]) -> ParsedReply:
        """One completion, read: the turn, its usage, and which field held the reasoning.

        With a tool format, calls the server left in `content` are read from it; with
        `api="completions"` the prompt is built from the chat template and the raw text parsed.
        """
        if self.config.api == "completions":
            return await self._raw_exchange(messages, tools)
        body = await self._post(self._request(messages, tools))
        try:
            reply = parse_reply(body)
        except MalformedReply as exc:  # final: the server answered, with something we cannot use
            raise ModelError(f"malformed reply: {exc}") from None
        if self.config.tool_format is None:
            return reply
        from trajforge.policy.native import calls_from_content  # the model formats' parsers: only runs that name one

        message, _ = calls_from_content(reply.message, self.config.tool_format, tools)
        return ParsedReply(message, reply.usage, reply.reasoning_field)

    async def _raw_exchange(self, messages: list[Message], tools: list[dict[str, Any]]) -> ParsedReply:
        """One /v1/completions call on the chat template's prompt, its text parsed with the tool format."""
        from trajforge.policy.native import message_from_generation, parse_completion

        config = self.config
        if config.chat_template is None or config.tool_format is None:
            raise ModelError("api completions needs a chat template and a tool format")
        kwargs = config.extra_body.get("chat_template_kwargs")
        try:
            prompt = config.chat_template.render(messages, tools, kwargs if isinstance(kwargs, dict) else {})
        except ChatTemplateError as exc:
            raise ModelError(str(exc)) from None
        body = await self._post(self._completion_request(prompt), path="/completions")
        try:
            text, usage = parse_completion(body)
        except MalformedReply as exc:
            raise ModelError(f"malformed reply: {exc}") from None
        message, _ = message_from_generation(text, config.tool_format, tools, config.reasoning_parser, prompt=prompt)
        return ParsedReply(message, usage, f"completions:{config.tool_format}" if message.reasoning else None)

    async def _post(self, request: dict[str, Any], path: str = "/chat/completions") -> bytes:
        """The reply body; transient failures are retried with exponential backoff and jitter."""
        config = self.config
        for attempt in range(config.max_retries + 1):
            if self.pool.breaker_open:  # fail fast: running episodes end instead of each retrying for minutes
                raise ModelError(f"breaker open: {self.pool.breaker_reason}", transient=True)
            endpoint = self.pool.acquire()
            recovery, failure, answered = None, "", False
            try:
                body = await endpoint.client.post(path, request)
                answered = True
            except HTTPFailure as exc:
                recovery, failure, answered = classify(exc), describe(exc), True
            finally:  # also when cancelled mid-request: the endpoint's load must come back down
                if answered:
                    self.pool.release(endpoint, ok=recovery is not Recovery.RETRY, error=failure)
                else:
                    self.pool.abandon(endpoint)
            if recovery is None:
                return body
            if recovery is Recovery.END_CONTEXT:
                raise ContextLengthExceeded(failure)
            if recovery is Recovery.END_ERROR:
                raise ModelError(failure)
            if attempt == config.max_retries:
                raise ModelError(f"{failure} (gave up after {attempt + 1} attempts)", transient=True)
            self.retries += 1
            delay = min(config.backoff_max, config.backoff_base * 2**attempt)
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
        raise AssertionError("unreachable: the last attempt returns or raises")

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
        if config.tool_format is not None:  # keep the format's special tokens in `content` for us to read
            request["skip_special_tokens"] = False
        request.update(config.extra_body)  # as the SDK does with extra_body: merged into the JSON body
        return request

    def _completion_request(self, prompt: str) -> dict[str, Any]:
        """A /v1/completions body: the prompt, the sampling, special tokens kept in the text (vLLM drops them else)."""
        config = self.config
        request: dict[str, Any] = {
            "model": config.model,
            "prompt": prompt,
            "stream": False,
            "skip_special_tokens": False,
        }
        for name in ("temperature", "top_p", "max_tokens"):
            if getattr(config, name) is not None:
                request[name] = getattr(config, name)
        request.update({k: v for k, v in config.extra_body.items() if k != "chat_template_kwargs"})
        return request


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
                    call.to_openai(call.raw_arguments if call.raw_arguments is not None else dumps(call.arguments))
                    for call in message.tool_calls
                ]
        elif message.role == "tool":
            item["tool_call_id"] = message.tool_call_id
            item["name"] = message.name
        payload.append(item)
    return payload
