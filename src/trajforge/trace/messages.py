"""Assistant messages as servers and other harnesses give them: inline reasoning and call arguments."""

from __future__ import annotations

import re
from typing import Any

from trajforge.trace.model import ToolCall
from trajforge.trace.turns import dumps, loads

_INLINE_THINK = re.compile(r"^\s*<think>(.*?)</think>\s*", re.S)


def split_inline_think(content: str) -> tuple[str | None, str | None]:
    """(reasoning, content) of a text that may open with a `<think>` block; None for an empty part."""
    match = _INLINE_THINK.match(content)
    if not match:
        return None, content or None
    return match.group(1).strip("\n") or None, content[match.end() :] or None


def parse_call(call_id: str, name: str, arguments: Any) -> ToolCall:
    """A call from its arguments as sent: an object, a JSON string (empty: no arguments) or anything else.

    Arguments that are not a JSON object are kept as text in `raw_arguments`,
    with `arguments` left empty (FORMAT.md section 3).
    """
    if isinstance(arguments, dict):
        return ToolCall(call_id, name, arguments)
    raw = arguments if isinstance(arguments, str) else dumps(arguments)
    if arguments is None or not raw.strip():
        return ToolCall(call_id, name, {})
    try:
        value = loads(raw)
    except ValueError:
        value = None
    if isinstance(value, dict):
        return ToolCall(call_id, name, value)
    return ToolCall(call_id, name, {}, raw_arguments=raw)
