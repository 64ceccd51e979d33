"""A chat completion's body read into our Message, checked field by field (no SDK models: cheaper, clearer errors)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trajforge.trace import Message, ToolCall, Usage, parse_call, split_inline_think
from trajforge.trace.turns import NestedTooDeep, loads

REASONING_FIELDS = ("reasoning", "reasoning_content")
"""Where servers put reasoning, in the order read (vLLM renamed `reasoning_content` to `reasoning`)."""
INLINE_THINK = "inline <think>"


class MalformedReply(ValueError):
    """A 200 reply that is not a usable chat completion; the message says what is wrong, in one line."""


@dataclass(frozen=True)
class ParsedReply:
    """One assistant turn read from a reply, and where its reasoning was found."""

    message: Message
    usage: Usage
    reasoning_field: str | None
    """`reasoning`, `reasoning_content`, `inline <think>`, or None when the turn has no reasoning."""


def parse_reply(body: bytes) -> ParsedReply:
    """Read a chat completion body; raises MalformedReply (never another error) when it is not one."""
    try:
        return _parse(body)
    except RecursionError:  # nesting deep enough to exhaust the stack anywhere in the reading
        raise MalformedReply("the reply nests too deep to read") from None


def _parse(body: bytes) -> ParsedReply:
    try:
        data = loads(body)
    except NestedTooDeep:
        raise MalformedReply("the reply nests too deep to read") from None
    except ValueError:
        head = body[:60].decode("utf-8", "replace").replace("\n", " ").strip()
        raise MalformedReply(f"the reply is not JSON (it starts {head!r})") from None
    if not isinstance(data, dict):
        raise MalformedReply(f"the reply is JSON {json_kind(data)}, not a chat completion object")
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices:
        what = "has no choices" if not choices else f"has choices of JSON {json_kind(choices)}, not a list"
        raise MalformedReply(f"the reply {what}")
    choice = choices[0]
    message = choice.get("message") if isinstance(choice, dict) else None
    if not isinstance(message, dict):
        raise MalformedReply("the reply's first choice has no message object")
    parsed, field = parse_message(message)
    return ParsedReply(parsed, usage_of(data.get("usage")), field)


def parse_message(message: dict[str, Any]) -> tuple[Message, str | None]:
    """Our Message from a reply's `message` object, and where its reasoning was found.

    Reasoning is read from `reasoning`, then `reasoning_content`, then an inline
    `<think>` block opening the content. Raises MalformedReply on a field of the wrong type.
    """
    content = _content(message.get("content"))
    reasoning, field = None, None
    for name in REASONING_FIELDS:
        value = message.get(name)
        if value is not None and not isinstance(value, str):
            raise MalformedReply(f"the message's {name} is JSON {json_kind(value)}, not text")
        if value:
            reasoning, field = value, name
            break
    if reasoning is None and content:
        reasoning, content = split_inline_think(content)
        field = INLINE_THINK if reasoning else None
    calls = _calls(message.get("tool_calls"))
    return Message(role="assistant", content=content or None, reasoning=reasoning or None, tool_calls=calls), field


def _content(value: Any) -> str | None:
    """Text content: a string, or the text parts of a content list (as some servers send)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(p, dict) and isinstance(p.get("text"), str) for p in value):
        return "".join(p["text"] for p in value)
    raise MalformedReply(f"the message's content is JSON {json_kind(value)}, not text")


def _calls(value: Any) -> list[ToolCall]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedReply(f"the message's tool_calls is JSON {json_kind(value)}, not a list")
    calls = []
    for index, call in enumerate(value):
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict):
            raise MalformedReply(f"tool call {index} has no function object")
        name, arguments, call_id = function.get("name"), function.get("arguments"), call.get("id")
        if not isinstance(name, str) or not name:
            raise MalformedReply(f"tool call {index} has no function name")
        if arguments is not None and not isinstance(arguments, str | dict):
            raise MalformedReply(
                f"tool call {index}'s arguments are JSON {json_kind(arguments)}, not a string or object"
            )
        if call_id is not None and not isinstance(call_id, str):
            raise MalformedReply(f"tool call {index}'s id is JSON {json_kind(call_id)}, not text")
        # Arguments that are invalid JSON, not an object, or nested too deep are kept as
        # text in raw_arguments (the episode goes on; the tool answers with an error).
        calls.append(parse_call(call_id or f"call_{index}", name, arguments))
    return calls


def usage_of(value: Any) -> Usage:
    """Token counts when the server reports them as integers; missing or odd counts are unknown."""
    if not isinstance(value, dict):
        return Usage()
    prompt, completion = value.get("prompt_tokens"), value.get("completion_tokens")
    return Usage(
        prompt if isinstance(prompt, int) and not isinstance(prompt, bool) else None,
        completion if isinstance(completion, int) and not isinstance(completion, bool) else None,
    )


def json_kind(value: Any) -> str:
    """A JSON value's type in JSON's words, for error lines."""
    names = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)
