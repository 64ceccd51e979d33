"""Assistant messages as servers and other harnesses give them: inline reasoning and call arguments."""

from __future__ import annotations

import re
from typing import Any

from trajforge.trace.model import ToolCall
from trajforge.trace.turns import dumps, loads

_INLINE_THINK = re.compile(r"^\s*<think>(.*?)</think>\s*", re.S)

MAX_ARGUMENT_DEPTH = 64
"""Deepest nesting of call arguments kept as an object. Deeper ones are kept as text in
`raw_arguments`, like invalid JSON: no tool takes such arguments, and JSON writers
(orjson stops at 255 levels, Python's parsers at the recursion limit) fail on them (issue 10)."""


def split_inline_think(content: str | None) -> tuple[str | None, str | None]:
    """(reasoning, content) of a text that may open with a `<think>` block; None for an empty part.

    Raises TypeError, with the type named, when `content` is neither text nor None.
    """
    if content is None:
        return None, None
    if not isinstance(content, str):
        raise TypeError(f"content is {type(content).__name__}, not text")
    match = _INLINE_THINK.match(content)
    if not match:
        return None, content or None
    return match.group(1).strip("\n") or None, content[match.end() :] or None


def parse_call(call_id: str, name: str, arguments: Any) -> ToolCall:
    """A call from its arguments as sent: an object, a JSON string (empty: no arguments) or anything else.

    Arguments that are not a JSON object, or that nest deeper than
    MAX_ARGUMENT_DEPTH, are kept as text in `raw_arguments`, with `arguments`
    left empty (FORMAT.md section 3). Never raises on the arguments' content.
    """
    if isinstance(arguments, dict) and not nested_deeper(arguments, MAX_ARGUMENT_DEPTH):
        return ToolCall(call_id, name, arguments)
    try:
        raw = arguments if isinstance(arguments, str) else dumps(arguments)
    except (ValueError, TypeError, RecursionError):  # too deep to write (str() would recurse too): say so
        raw = f"({type(arguments).__name__} arguments that cannot be written as JSON)"
    if arguments is None or not raw.strip():
        return ToolCall(call_id, name, {})
    try:
        value = loads(raw)
    except (ValueError, RecursionError):  # orjson refuses over 1024 levels; the fallback parser then recurses
        value = None
    if isinstance(value, dict) and not nested_deeper(value, MAX_ARGUMENT_DEPTH):
        return ToolCall(call_id, name, value)
    return ToolCall(call_id, name, {}, raw_arguments=raw)


def nested_deeper(value: Any, limit: int) -> bool:
    """Whether objects and arrays in `value` nest deeper than `limit` levels (walked without recursion)."""
    level: list[Any] = [value]
    for _ in range(limit):
        level = [
            child
            for item in level
            for child in (item.values() if isinstance(item, dict) else item if isinstance(item, list) else ())
            if isinstance(child, dict | list)
        ]
        if not level:
            return False
    return True
