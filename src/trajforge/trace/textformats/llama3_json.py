"""Llama 3.x JSON tool calls: `{"name": ..., "parameters": {...}}`.

Several are joined by `; `, maybe after `<|python_tag|>`.

Follows vLLM's `llama_tool_parser.py` (`llama3_json`): every `{` not inside an object
already read must start a JSON object with `name` and `arguments` or `parameters`;
if one does not, vLLM gives the whole output back as content, and so does this
(told as a problem when the text looked like a call). Unlike vLLM, which drops
it, text around the calls is kept as content.
"""

from __future__ import annotations

import json

from trajforge.trace.textformats.hermes import call_from_object
from trajforge.trace.textformats.model import Extracted, TextCall
from trajforge.trace.textformats.values import Tools, head, tool_names
from trajforge.trace.turns import dumps

PYTHON_TAG = "<|python_tag|>"
TAGS = (PYTHON_TAG,)
_DECODER = json.JSONDecoder()


def extract(text: str, tools: Tools) -> Extracted:
    """Calls and the text around them (all content when any object is not a call)."""
    out, known = Extracted(), tool_names(tools)
    looks_like_call = PYTHON_TAG in text or (text.lstrip().startswith("{") and '"name"' in text)
    body = text.replace(PYTHON_TAG, "\n")
    if "{" not in body:
        out.keep(text)
        return out
    calls: list[TextCall] = []
    pieces: list[str] = []
    pos = 0
    while (start := body.find("{", pos)) != -1:
        try:
            value, end = _DECODER.raw_decode(body, start)
        except (ValueError, RecursionError):
            return _all_content(text, f"a '{{' that starts no JSON object: {head(body[start:])}", looks_like_call)
        call, problem = call_from_object(value, body[start:end])
        if call is None:
            return _all_content(text, problem, looks_like_call)
        pieces.append(body[pos:start])
        calls.append(call)
        pos = end
    pieces.append(body[pos:])
    for index, piece in enumerate(pieces):  # after a call, the `;` that separates calls is not content
        out.keep(piece.strip().lstrip(";") if index else piece)
    for call in calls:
        out.add(call, known)
    return out


def _all_content(text: str, problem: str, tell: bool) -> Extracted:
    out = Extracted()
    if tell:
        out.fail(text, problem)
    else:
        out.keep(text)
    return out


def render_calls(calls: list[TextCall], tools: Tools) -> str:
    """The calls as Llama 3.1's JSON tool-call template writes them, joined by `; `."""
    return "; ".join(dumps({"name": c.name, "parameters": c.arguments}) for c in calls)
