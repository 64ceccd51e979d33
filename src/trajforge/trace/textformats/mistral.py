"""Mistral: `[TOOL_CALLS]` followed by a JSON list (tokenizers before v11) or by `NAME[ARGS]{...}` per call (v11+).

Follows vLLM's `mistral_tool_parser.py`: content is the text before the first
`[TOOL_CALLS]`; pre-v11 lists `[{"name", "arguments"[, "id"]}]` (ids kept), v11+
`[TOOL_CALLS]NAME{...}`, with the `[ARGS]` and `[CALL_ID]ID` tokens read too.
Unlike vLLM, arguments that are not a JSON object leave the call's text in the
content (told as a problem) instead of passing the raw string on.
"""

from __future__ import annotations

import json

from trajforge.trace.messages import MAX_ARGUMENT_DEPTH, nested_deeper
from trajforge.trace.textformats.hermes import call_from_object
from trajforge.trace.textformats.model import Extracted, TextCall
from trajforge.trace.textformats.values import Tools, head, tool_names
from trajforge.trace.turns import dumps

BOT, ARGS, CALL_ID = "[TOOL_CALLS]", "[ARGS]", "[CALL_ID]"
TAGS = (BOT, ARGS, CALL_ID)
_DECODER = json.JSONDecoder()


def extract(text: str, tools: Tools) -> Extracted:
    """Calls and the text around them."""
    out, known = Extracted(), tool_names(tools)
    content, *raws = text.split(BOT)
    out.keep(content)
    for raw in raws:
        if raw.lstrip().startswith("["):
            _json_list(raw, out, known)
        else:
            _named(raw, out, known)
    return out


def _json_list(raw: str, out: Extracted, known: set[str] | None) -> None:
    """Pre-v11: `[{"name": ..., "arguments": {...}}, ...]`, then maybe more text."""
    start = raw.find("[")
    try:
        value, end = _DECODER.raw_decode(raw, start)
    except (ValueError, RecursionError):
        out.fail(BOT + raw, f"{BOT} followed by a list that is not valid JSON: {head(raw)}")
        return
    items = value if isinstance(value, list) else []
    read = [call_from_object(item, raw[start:end], keep_id=True) for item in items]
    if not read or any(call is None for call, _ in read):
        problem = next((p for c, p in read if c is None), "an empty list")
        out.fail(BOT + raw[:end], f"{BOT}: {problem}")
    else:
        for call, _ in read:
            assert call is not None
            out.add(call, known)
    out.keep(raw[end:])


def _named(raw: str, out: Extracted, known: set[str] | None) -> None:
    """v11+: `NAME{...}`, `NAME[ARGS]{...}` or `NAME[CALL_ID]ID[ARGS]{...}`, then maybe more text."""
    brace = raw.find("{")
    args_at = raw.find(ARGS)
    cut = args_at if args_at != -1 and (brace == -1 or args_at < brace) else brace
    if cut == -1:
        out.fail(BOT + raw, f"{BOT} without arguments: {head(raw)}")
        return
    head_text, call_id = raw[:cut], None
    if CALL_ID in head_text:
        head_text, _, call_id = head_text.partition(CALL_ID)
        call_id = call_id.strip() or None
    name = head_text.strip()
    start = raw.find("{", cut)
    try:
        value, end = _DECODER.raw_decode(raw, start) if start != -1 else (None, len(raw))
    except (ValueError, RecursionError):
        value, end = None, len(raw)
    if not name or not isinstance(value, dict) or nested_deeper(value, MAX_ARGUMENT_DEPTH):
        out.fail(BOT + raw, f"tool call {name!r}: arguments are not a JSON object: {head(raw[cut:])}")
        return
    out.add(TextCall(name, value, call_id), known)
    out.keep(raw[end:])


def render_calls(calls: list[TextCall], tools: Tools) -> str:
    """The calls as v11+ tokenizers write them (`[CALL_ID]` only for calls that have an id)."""
    parts = []
    for call in calls:
        ident = f"{CALL_ID}{call.id}" if call.id else ""
        parts.append(f"{BOT}{call.name}{ident}{ARGS}{dumps(call.arguments)}")
    return "".join(parts)
