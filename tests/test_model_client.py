"""The model client against a real scripted server: malformed replies, transient failures, the breaker (issue 10)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from trajforge.policy import ContextLengthExceeded, ModelConfig, ModelError, OpenAIPolicy
from trajforge.trace import Finish, Message, ToolCall, parse_call

from .harness import run
from .scripted_server import Reply, ScriptedServer, call, reply

PROMPT = [Message(role="system", content="Be brief."), Message(role="user", content="Hi.")]


def closed_port_url() -> str:
    """A base URL on 127.0.0.1 where nothing listens (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def config(url: str, **fields: Any) -> ModelConfig:
    fields = {"max_retries": 2, "backoff_base": 0.001, "timeout": 10.0, **fields}
    return ModelConfig(url, "scripted", **fields)


async def complete(policy: OpenAIPolicy) -> Any:
    return await policy.complete(PROMPT, [])


def outcome(script: list[Reply], **fields: Any) -> Any:
    """What one completion against `script` gave: its Completion, or the exception it raised."""

    async def go(url: str) -> Any:
        policy = OpenAIPolicy(config(url, **fields))
        try:
            return await complete(policy)
        except Exception as exc:
            return exc
        finally:
            await policy.close()

    with ScriptedServer(script) as server:
        return asyncio.run(go(server.url))


def deep(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


def message(**fields: Any) -> Reply:
    return {"message": {"role": "assistant", "content": None, **fields}}


MALFORMED: dict[str, tuple[Reply, str]] = {
    "html": ({"raw": "<html><body>502 Bad Gateway</body></html>"}, "not JSON (it starts '<html>"),
    "invalid json": ({"raw": '{"choices": [', "content_type": "application/json"}, "not JSON"),
    "json array": ({"body": [1, 2]}, "JSON array, not a chat completion"),
    "no choices": ({"body": {"object": "chat.completion", "choices": []}}, "has no choices"),
    "choices missing": ({"body": {"object": "error"}}, "has no choices"),
    "choices not a list": ({"body": {"choices": {"0": {}}}}, "choices of JSON object, not a list"),
    "message missing": ({"body": {"choices": [{"index": 0}]}}, "has no message object"),
    "content a number": (message(content=123), "content is JSON number, not text"),
    "reasoning an object": (message(content="ok", reasoning={"x": 1}), "reasoning is JSON object, not text"),
    "reasoning_content a number": (message(reasoning_content=5), "reasoning_content is JSON number"),
    "tool_calls a string": (message(tool_calls="terminal"), "tool_calls is JSON string, not a list"),
    "call without function": (message(tool_calls=[{"id": "c1", "type": "function"}]), "has no function object"),
    "call without name": (message(tool_calls=[{"function": {"arguments": "{}"}}]), "has no function name"),
    "arguments a number": (
        message(tool_calls=[{"id": "c1", "function": {"name": "terminal", "arguments": 5}}]),
        "arguments are JSON number, not a string or object",
    ),
    "nested past every parser": (
        {"raw": '{"choices": ' + "[" * 5000 + "]" * 5000 + "}", "content_type": "application/json"},
        "nests too deep",
    ),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_a_malformed_reply_is_a_final_model_error_with_the_reason(name: str) -> None:
    item, reason = MALFORMED[name]
    result = outcome([item])
    assert type(result) is ModelError, result
    assert reason in str(result) and str(result).startswith("malformed reply: ")
    assert not result.transient
    assert "\n" not in str(result)


def test_a_malformed_reply_ends_only_its_episode_as_model_error() -> None:
    episode, _ = run([reply(calls=[call("terminal", {"command": "echo hi"})]), message(content=123)])
    assert episode.finish is Finish.MODEL_ERROR
    assert "content is JSON number" in (episode.error or "")
    assert [m.role for m in episode.messages] == ["system", "user", "assistant", "tool"]


def test_arguments_nested_900_deep_are_kept_raw_and_the_episode_goes_on() -> None:
    raw = deep(900)
    episode, _ = run([reply(calls=[call("terminal", raw)]), reply(content="Done.")])
    assert episode.finish is Finish.STOP
    made = episode.messages[2].tool_calls[0]
    assert (made.arguments, made.raw_arguments) == ({}, raw)
    assert "invalid_tool_arguments" in [str(getattr(f, "value", f)) for f in episode.flags]


def test_arguments_deeper_than_the_limit_are_raw_and_shallow_ones_parse() -> None:
    result = outcome([reply(calls=[call("terminal", deep(70), "c1"), call("terminal", deep(10), "c2")])])
    first, second = result.message.tool_calls
    assert first == ToolCall("c1", "terminal", {}, raw_arguments=deep(70))
    assert second.raw_arguments is None and second.arguments["a"]["a"]["a"]


def test_parse_call_never_raises_on_deep_objects() -> None:
    value: dict[str, Any] = {}
    inner = value
    for _ in range(3000):  # deeper than the recursion limit: writing it as JSON fails too
        inner["a"] = {}
        inner = inner["a"]
    made = parse_call("c1", "terminal", value)
    assert made.arguments == {} and made.raw_arguments


def test_reasoning_fields_and_content_parts_are_read() -> None:
    for item, expected in (
        (reply(content="A.", reasoning="R1", reasoning_field="reasoning"), ("R1", "A.")),
        (reply(content="A.", reasoning="R2", reasoning_field="reasoning_content"), ("R2", "A.")),
        (reply(content="A.", reasoning="R3", reasoning_field="inline"), ("R3", "A.")),
        (message(content=[{"type": "text", "text": "part "}, {"type": "text", "text": "two"}]), (None, "part two")),
    ):
        result = outcome([item])
        assert (result.message.reasoning, result.message.content) == expected


@pytest.mark.parametrize(
    ("script", "words"),
    [
        ([{"status": 503}] * 3, "HTTP 503"),
        ([{"status": 429}] * 3, "HTTP 429"),
        ([{"drop": True}] * 3, "connection"),
        ([{"hang": 1.0}] * 3, "timed out"),
    ],
)
def test_failures_that_retrying_may_fix_are_transient(script: list[Reply], words: str) -> None:
    result = outcome(script, timeout=0.3)
    assert type(result) is ModelError and result.transient
    assert words in str(result) and "gave up after 3 attempts" in str(result)


def test_connection_refused_is_transient() -> None:
    async def go() -> ModelError:
        policy = OpenAIPolicy(config(closed_port_url()))
        with pytest.raises(ModelError) as caught:
            await complete(policy)
        await policy.close()
        return caught.value

    error = asyncio.run(go())
    assert error.transient and "connection refused" in str(error)


@pytest.mark.parametrize(("status", "kind"), [(401, ModelError), (404, ModelError), (400, ModelError)])
def test_other_client_errors_are_final(status: int, kind: type[ModelError]) -> None:
    result = outcome([{"status": status, "error": "nope"}])
    assert type(result) is kind and not result.transient and f"HTTP {status}" in str(result)


def test_context_length_is_still_its_own_error() -> None:
    assert type(outcome([{"context_length": True}])) is ContextLengthExceeded


def test_a_retry_that_succeeds_is_counted() -> None:
    async def go(url: str) -> tuple[Any, int]:
        policy = OpenAIPolicy(config(url))
        try:
            return await complete(policy), policy.retries
        finally:
            await policy.close()

    with ScriptedServer([{"status": 500}, reply(content="Fine.")]) as server:
        completion, retries = asyncio.run(go(server.url))
    assert completion.message.content == "Fine." and retries == 1


def test_breaker_opens_when_every_endpoint_keeps_failing_and_then_sends_nothing() -> None:
    async def go(first: ScriptedServer, second: ScriptedServer) -> list[ModelError]:
        policy = OpenAIPolicy(config(first.url, more_endpoints=(second.url,), breaker_failures=3, max_retries=1))
        errors: list[ModelError] = []
        try:
            while not policy.breaker_open and len(errors) < 20:
                with pytest.raises(ModelError) as caught:
                    await complete(policy)
                errors.append(caught.value)
            sent = len(first.requests) + len(second.requests)
            with pytest.raises(ModelError) as caught:
                await complete(policy)
            assert len(first.requests) + len(second.requests) == sent  # nothing was sent
            assert caught.value.transient and str(caught.value).startswith("breaker open: ")
            reason = policy.breaker_reason or ""
            assert first.url in reason and second.url in reason and "HTTP 500" in reason
        finally:
            await policy.close()
        return errors

    failing: list[Reply] = [{"status": 500} for _ in range(50)]
    with ScriptedServer(failing) as first, ScriptedServer(list(failing)) as second:
        errors = asyncio.run(go(first, second))
        assert len(first.requests) >= 3 and len(second.requests) >= 3
    assert all(e.transient for e in errors)


def test_breaker_stays_closed_while_one_endpoint_serves() -> None:
    async def go(url: str) -> list[bool]:
        policy = OpenAIPolicy(config(closed_port_url(), more_endpoints=(url,), breaker_failures=2, rest_seconds=0.0))
        states = []
        try:
            for _ in range(12):
                completion = await complete(policy)
                assert completion.message.content == "Fine."
                states.append(policy.breaker_open)
            assert policy.pool.endpoints[0].streak >= 2  # the dead one kept failing
        finally:
            await policy.close()
        return states

    with ScriptedServer(lambda body: reply(content="Fine.")) as server:
        assert asyncio.run(go(server.url)) == [False] * 12
