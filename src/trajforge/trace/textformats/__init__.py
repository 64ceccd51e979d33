"""Model-native text formats: tool calls and reasoning as models write them, read and written.

`parse(fmt, text, tools=None)` splits a generation into reasoning, content and
tool calls the way vLLM's tool parser of the same name does (`hermes`,
`kimi_k2`, `glm45`, `glm47`, `qwen3_coder`, `deepseek_v3`, `deepseek_v31`,
`llama3_json`, `mistral`, `pythonic`), with the reasoning split of vLLM's
`<think>` reasoning parsers first. `render(fmt, reasoning, content, tool_calls)`
is its inverse: `parse(fmt, render(fmt, r, c, calls)) == (r, c, calls)` wherever
the format can express them.

Malformed input never raises: what cannot be read stays in `content` and
`problems` says why. No I/O beyond strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from trajforge.trace.messages import parse_call
from trajforge.trace.model import Message
from trajforge.trace.textformats.model import ParsedText, RenderError, TextCall, UnknownFormat
from trajforge.trace.textformats.reasoning import (
    STYLES,
    clean_content,
    reasoning_collision,
    render_reasoning,
    split_reasoning,
)
from trajforge.trace.textformats.registry import FORMATS, Format
from trajforge.trace.textformats.values import Tools

FORMAT_DEFAULT = "default"
"""`reasoning=FORMAT_DEFAULT`: the format's usual reasoning style (see `default_reasoning`)."""
NO_REASONING = "none"
"""`reasoning=NO_REASONING` (the same as None): no reasoning is split off (for option values)."""
REASONING_STYLES = tuple(STYLES)
"""Reasoning style names: `think`, `deepseek_r1`, `qwen3`, `kimi_k2`, `glm45`, `mistral` (None: no split)."""


def formats() -> tuple[str, ...]:
    """The format names, vLLM's `--tool-call-parser` names."""
    return tuple(FORMATS)


def default_reasoning(fmt: str) -> str | None:
    """The reasoning style `parse` and `render` use for `fmt` unless told otherwise."""
    return _format(fmt).reasoning


def reasoning_tags(fmt: str, reasoning: str | None = FORMAT_DEFAULT) -> tuple[str, str] | None:
    """The (opening, closing) reasoning tags `parse` reads for `fmt` under a style (None: no split)."""
    style = _style(_format(fmt), reasoning)
    return (STYLES[style].open, STYLES[style].close) if style is not None else None


def parse(fmt: str, text: str, tools: Tools = None, *, reasoning: str | None = FORMAT_DEFAULT) -> ParsedText:
    """Reasoning, content and tool calls of one generation in format `fmt`.

    `tools` (OpenAI tool definitions) types GLM and Qwen3-Coder argument values by
    their JSON schema, and names calls to tools not offered in `problems`.
    `reasoning` names a reasoning style (`REASONING_STYLES`), None for no split.
    Raises UnknownFormat for an unknown `fmt` or style; never raises on `text`.
    """
    form = _format(fmt)
    style = _style(form, reasoning)
    text = "" if text is None else text
    think, rest, problems = split_reasoning(style, text)
    found = form.extract(rest, tools)
    pieces = [clean_content(style, piece).strip() for piece in found.content]
    return ParsedText(
        reasoning=(think or "").strip() or None,
        content="\n".join(piece for piece in pieces if piece) or None,
        tool_calls=found.calls,
        problems=[*problems, *found.problems],
    )


def render(
    fmt: str,
    reasoning: str | None,
    content: str | None,
    tool_calls: Iterable[TextCall | Mapping[str, Any] | Any] = (),
    *,
    tools: Tools = None,
    reasoning_style: str | None = FORMAT_DEFAULT,
) -> str:
    """The text a model writes for this turn in format `fmt` (what `parse` reads back).

    `tool_calls` are TextCalls, `{"name", "arguments"[, "id"]}` mappings, or any
    objects with those attributes (trace.ToolCall). Raises RenderError when the
    format cannot express them (a tag of the format inside content or a value,
    a pythonic name that is not a Python name), UnknownFormat for unknown names.
    """
    form = _format(fmt)
    style = _style(form, reasoning_style)
    calls = [_call(call) for call in tool_calls]
    collision = reasoning_collision(style, reasoning, content) or _tag_collision(form, content, calls)
    if collision:
        raise RenderError(f"{fmt}: {collision}")
    text = render_reasoning(style, reasoning.strip() if reasoning else None)
    body = form.render(calls, tools) if calls else ""
    visible = content.strip() if content else ""
    return text + (visible + form.joiner + body if visible and body else visible or body)


def assistant_message(parsed: ParsedText, source: str, id_prefix: str = "call_") -> Message:
    """The parsed turn as an assistant Message; each call marked with `source`.

    Calls keep the format's id (Kimi-K2's `functions.NAME:IDX`) or get `{id_prefix}{index}`.
    """
    calls = []
    for index, call in enumerate(parsed.tool_calls):
        made = parse_call(call.id or f"{id_prefix}{index}", call.name, call.arguments)
        made.source = source
        calls.append(made)
    return Message("assistant", content=parsed.content, reasoning=parsed.reasoning, tool_calls=calls)


def _format(fmt: str) -> Format:
    try:
        return FORMATS[fmt]
    except (KeyError, TypeError):
        raise UnknownFormat(f"unknown tool format {fmt!r}; known: {', '.join(FORMATS)}") from None


def _style(form: Format, reasoning: str | None) -> str | None:
    style = form.reasoning if reasoning == FORMAT_DEFAULT else None if reasoning == NO_REASONING else reasoning
    if style is not None and style not in STYLES:
        raise UnknownFormat(f"unknown reasoning style {style!r}; known: {', '.join(STYLES)} (or None)")
    return style


def _call(call: TextCall | Mapping[str, Any] | Any) -> TextCall:
    if isinstance(call, TextCall):
        return call
    if isinstance(call, Mapping):
        return TextCall(str(call["name"]), dict(call.get("arguments") or {}), call.get("id"))
    return TextCall(str(call.name), dict(call.arguments or {}), getattr(call, "id", None))


def _tag_collision(form: Format, content: str | None, calls: list[TextCall]) -> str | None:
    """Why content or a call cannot be written in this format without reading back differently, or None."""
    for tag in form.tags:
        if content and tag in content:
            return f"the content contains {tag}"
        for call in calls:
            if tag in call.name or any(tag in text for text in _strings(call.arguments)):
                return f"tool call {call.name!r} contains {tag}"
    if form.name == "llama3_json" and content and "{" in content:
        return "the content contains '{' (Llama's parser reads every '{' as a call)"
    if form.name == "pythonic" and content and content.lstrip().startswith("["):
        return "the content starts with '[' (read as a call list)"
    return None


def _strings(value: Any) -> Iterable[str]:
    """Every key and string value inside a JSON value."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            yield from (k for k in item if isinstance(k, str))
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


__all__ = [
    "FORMAT_DEFAULT",
    "NO_REASONING",
    "REASONING_STYLES",
    "ParsedText",
    "RenderError",
    "TextCall",
    "UnknownFormat",
    "assistant_message",
    "default_reasoning",
    "formats",
    "parse",
    "reasoning_tags",
    "render",
]
