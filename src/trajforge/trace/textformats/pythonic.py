"""Pythonic tool calls (Llama 3.2/4, ToolACE): `[get_weather(city='Paris'), get_time()]`.

Follows vLLM's `pythonic_tool_parser.py`: the output is a Python list of calls with
keyword arguments whose values are literals (strings, numbers, True/False/None,
lists, dicts); Llama 4's `<|python_start|>...<|python_end|>` wrapper is read too.
Beyond vLLM: negative numbers, and a list on its own last lines after some text
(that text is the content). Anything else is content.
"""

from __future__ import annotations

import ast
import keyword
from typing import Any

from trajforge.trace.textformats.model import Extracted, RenderError, TextCall
from trajforge.trace.textformats.values import Tools, head, jsonable, tool_names

START, END = "<|python_start|>", "<|python_end|>"
TAGS = (START, END)
_LIMIT = 1_000_000
"""Longest call list handed to Python's parser."""


class _NotCalls(ValueError):
    """The text is not a list of calls with literal arguments."""


def extract(text: str, tools: Tools) -> Extracted:
    """Calls and the text before them."""
    out, known = Extracted(), tool_names(tools)
    body, before, after = text, "", ""
    if START in text:
        before, _, rest = text.partition(START)
        body, _, after = rest.partition(END)
    elif (at := _list_start(text)) != -1:
        before, body = text[:at], text[at:]
    else:
        out.keep(text)
        return out
    try:
        calls = _calls(body.strip())
    except _NotCalls as exc:
        if START in text or text.lstrip().startswith("["):
            out.fail(text, str(exc))
        else:  # a bracketed last line in prose: just content
            out.keep(text)
        return out
    out.keep(before)
    for call in calls:
        out.add(call, known)
    out.keep(after)
    return out


def _list_start(text: str) -> int:
    """Where a final call list starts: the text itself, or a line that opens with `[`; -1 when none."""
    stripped = text.lstrip()
    if stripped.startswith("["):
        return len(text) - len(stripped)
    at = text.rfind("\n[")
    return at + 1 if at != -1 and text.rstrip().endswith("]") else -1


def _calls(source: str) -> list[TextCall]:
    if len(source) > _LIMIT:
        raise _NotCalls(f"a call list over {_LIMIT} characters was not read")
    try:
        module = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        raise _NotCalls(f"not a Python list of calls: {head(source)}") from None
    node = module.body
    if not isinstance(node, ast.List) or not node.elts or not all(isinstance(e, ast.Call) for e in node.elts):
        raise _NotCalls(f"not a list of function calls: {head(source)}")
    return [_call(e) for e in node.elts if isinstance(e, ast.Call)]


def _call(node: ast.Call) -> TextCall:
    if not isinstance(node.func, ast.Name):
        raise _NotCalls("a call whose function is not a plain name")
    if node.args:
        raise _NotCalls(f"tool call {node.func.id!r} has positional arguments")
    arguments: dict[str, Any] = {}
    for item in node.keywords:
        if item.arg is None:
            raise _NotCalls(f"tool call {node.func.id!r} has ** arguments")
        arguments[item.arg] = _value(item.value)
    return TextCall(node.func.id, arguments)


def _value(node: ast.expr) -> Any:
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise _NotCalls("an argument that is not a literal") from None
    if isinstance(node, ast.Set) or isinstance(value, set):
        raise _NotCalls("a set argument")
    converted, ok = jsonable(value)
    if not ok:
        raise _NotCalls("an argument JSON cannot hold (bytes, complex, ...)")
    return converted


def render_calls(calls: list[TextCall], tools: Tools) -> str:
    """The calls as one Python list."""
    if not calls:
        return ""
    parts = []
    for call in calls:
        if not _is_name(call.name):
            raise RenderError(f"tool name {call.name!r} is not a Python name")
        for key in call.arguments:
            if not _is_name(key):
                raise RenderError(f"argument name {key!r} is not a Python name")
        args = ", ".join(f"{k}={_literal(v)}" for k, v in call.arguments.items())
        parts.append(f"{call.name}({args})")
    return "[" + ", ".join(parts) + "]"


def _is_name(text: str) -> bool:
    return text.isidentifier() and not keyword.iskeyword(text)


def _literal(value: Any) -> str:
    """A JSON value as Python source."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return repr(value)
