"""Hermes (NousResearch Hermes 2 Pro, Qwen2.5/Qwen3): `<tool_call>{"name": ..., "arguments": {...}}</tool_call>`.

Follows vLLM's `hermes_tool_parser.py`: JSON between the tags, `arguments` an object
or a JSON string of one; a last `<tool_call>` without its end tag is still read when
its JSON is whole (vLLM's `<tool_call>(.*)` alternative), and told as a problem.
"""

from __future__ import annotations

from typing import Any

from trajforge.trace.messages import MAX_ARGUMENT_DEPTH, nested_deeper
from trajforge.trace.textformats.model import Extracted, TextCall
from trajforge.trace.textformats.scan import regions
from trajforge.trace.textformats.values import Tools, head, literal, load_json, load_object, tool_names
from trajforge.trace.turns import dumps

OPEN, CLOSE = "<tool_call>", "</tool_call>"
TAGS = (OPEN, CLOSE)


def extract(text: str, tools: Tools) -> Extracted:
    """Calls and the text around them."""
    out, known = Extracted(), tool_names(tools)
    for piece in regions(text, OPEN, CLOSE):
        if isinstance(piece, str):
            out.keep(piece)
            continue
        call, problem = read_json_call(piece.inner)
        if call is None:
            cut = "" if piece.closed else f" ({OPEN} without {CLOSE}: output cut off?)"
            out.fail(piece.raw, f"{problem}{cut}")
            continue
        if not piece.closed:
            out.problems.append(f"{OPEN} without {CLOSE}: the call was read, its JSON being whole")
        out.add(call, known)
    return out


def read_json_call(text: str) -> tuple[TextCall | None, str]:
    """A call from `{"name": ..., "arguments"|"parameters": ...}` text (a Python dict literal also does)."""
    value, ok = load_json(text.strip())
    if not ok:
        value, ok = literal(text.strip())  # the Hermes prompt's own example uses single quotes
    if not ok:
        return None, f"a tool call that is not valid JSON: {head(text)}"
    return call_from_object(value, text)


def call_from_object(value: Any, text: str, *, keep_id: bool = False) -> tuple[TextCall | None, str]:
    """A call from a decoded `{"name", "arguments"|"parameters"[, "id"]}` object (`id` kept only if asked)."""
    if not isinstance(value, dict) or not isinstance(value.get("name"), str) or not value["name"]:
        return None, f"a tool call without a name: {head(text)}"
    arguments = value.get("arguments", value.get("parameters", {}))
    if isinstance(arguments, str):
        arguments, problem = load_object(arguments)
        if arguments is None:
            return None, f"tool call {value['name']!r}: {problem}"
    if not isinstance(arguments, dict):
        return None, f"tool call {value['name']!r}: arguments are not an object"
    if nested_deeper(arguments, MAX_ARGUMENT_DEPTH):
        return None, f"tool call {value['name']!r}: arguments nest deeper than {MAX_ARGUMENT_DEPTH} levels"
    call_id = value.get("id") if keep_id else None
    return TextCall(value["name"], arguments, call_id if isinstance(call_id, str) and call_id else None), ""


def render_calls(calls: list[TextCall], tools: Tools) -> str:
    """The calls as Hermes blocks, one per line."""
    return "\n".join(f"{OPEN}\n{dumps({'name': c.name, 'arguments': c.arguments})}\n{CLOSE}" for c in calls)
