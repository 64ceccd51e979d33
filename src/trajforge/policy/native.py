"""Tool calls from the model's own text: a chat reply that left them in `content`, or a raw completion.

Servers do not always parse: one started without `--tool-call-parser`, a parser that
failed on one output, a plain /v1/completions endpoint. With a tool format named
(trace.textformats), the harness reads the calls itself and marks each with where it
came from (`ToolCall.source`).
"""

from __future__ import annotations

from typing import Any

from trajforge.policy.replies import MalformedReply, json_kind, usage_of
from trajforge.trace import Message, Usage, textformats
from trajforge.trace.turns import loads

NO_REASONING = textformats.NO_REASONING
"""`--reasoning-parser none`: raw generations are not split into reasoning and content."""


def calls_from_content(message: Message, fmt: str, tools: list[dict[str, Any]]) -> tuple[Message, list[str]]:
    """The reply with the calls its content holds in format `fmt`, and the parser's problems.

    A reply that already has `tool_calls`, or whose content holds none, comes back as it was.
    The server (or the inline `<think>` split) has already taken the reasoning off.
    """
    if message.tool_calls or not message.content:
        return message, []
    parsed = textformats.parse(fmt, message.content, tools, reasoning=None)
    if not parsed.tool_calls:
        return message, parsed.problems
    turn = textformats.assistant_message(parsed, f"content:{fmt}")
    turn.reasoning = message.reasoning
    return turn, parsed.problems


def message_from_generation(
    text: str, fmt: str, tools: list[dict[str, Any]], reasoning: str | None, *, prompt: str = ""
) -> tuple[Message, list[str]]:
    """The assistant turn a raw generation holds: reasoning, content and calls (source `completions:FMT`).

    `reasoning` is a style name, None for the format's usual one, NO_REASONING for no split.
    When `prompt` ends with the style's opening tag (the template opened the reasoning, as
    Qwen3.5, GLM and DeepSeek-V3.1 thinking templates do), the text is read as inside it.
    """
    style = textformats.FORMAT_DEFAULT if reasoning is None else reasoning
    tags = textformats.reasoning_tags(fmt, style)
    if tags is not None and prompt.rstrip().endswith(tags[0]):
        text = tags[0] + text
    parsed = textformats.parse(fmt, text, tools, reasoning=style)
    return textformats.assistant_message(parsed, f"completions:{fmt}"), parsed.problems


def parse_completion(body: bytes) -> tuple[str, Usage]:
    """The generated text and usage of a /v1/completions reply; raises MalformedReply when it is not one."""
    try:
        data = loads(body)
    except (ValueError, RecursionError):
        head = body[:60].decode("utf-8", "replace").replace("\n", " ").strip()
        raise MalformedReply(f"the reply is not JSON (it starts {head!r})") from None
    if not isinstance(data, dict):
        raise MalformedReply(f"the reply is JSON {json_kind(data)}, not a completion object")
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise MalformedReply("the reply has no choices")
    text = choices[0].get("text")
    if not isinstance(text, str):
        raise MalformedReply(f"the reply's first choice has text of JSON {json_kind(text)}, not a string")
    return text, usage_of(data.get("usage"))
