"""Qwen3-Coder: `<tool_call><function=NAME><parameter=K>V</parameter></function></tool_call>`.

Follows vLLM's `qwen3coder_tool_parser.py`: one leading and one trailing newline of a
value are dropped, `null` is None, values are converted by the tool's schema
(strings kept; integers, numbers, booleans, objects and arrays read; without a
schema every value is text). Like vLLM, missing `</parameter>`, `</function>` and
`</tool_call>` tags are tolerated (told as problems), and `<function=` without any
`<tool_call>` is read too; a value cut off by the end of the text is not: that
call's text stays in the content.
"""

from __future__ import annotations

import re

from trajforge.trace.textformats.model import Extracted, TextCall
from trajforge.trace.textformats.scan import regions
from trajforge.trace.textformats.values import Tools, head, properties, qwen_text, qwen_value, tool_names

OPEN, CLOSE = "<tool_call>", "</tool_call>"
FUNCTION, FUNCTION_CLOSE = "<function=", "</function>"
PARAMETER, PARAMETER_CLOSE = "<parameter=", "</parameter>"
TAGS = (OPEN, CLOSE, FUNCTION, FUNCTION_CLOSE, PARAMETER, PARAMETER_CLOSE)


def extract(text: str, tools: Tools) -> Extracted:
    """Calls and the text around them."""
    out, known = Extracted(), tool_names(tools)
    if FUNCTION not in text:
        out.keep(text)
        return out
    if OPEN not in text:  # vLLM's back-off: functions without the <tool_call> wrapper
        at = text.find(FUNCTION)
        out.keep(text[:at])
        _functions(text[at:], text[at:], tools, known, out)
        return out
    for piece in regions(text, OPEN, CLOSE):
        if isinstance(piece, str):
            out.keep(piece)
        else:
            if not piece.closed:
                out.problems.append(f"{OPEN} without {CLOSE}")
            _functions(piece.inner, piece.raw, tools, known, out)
    return out


def _functions(body: str, raw: str, tools: Tools, known: set[str] | None, out: Extracted) -> None:
    """Every `<function=...>` block of one region; a region where none can be read stays in content whole."""
    starts = [m.start() for m in re.finditer(re.escape(FUNCTION), body)]
    if not starts:
        out.fail(raw, f"{OPEN} without {FUNCTION}...>: {head(body)}")
        return
    region = Extracted()
    region.keep(body[: starts[0]] if body[: starts[0]].strip() else "")
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else len(body)
        block = body[start + len(FUNCTION) : end]
        close = block.find(FUNCTION_CLOSE)
        after = ""
        if close != -1:
            block, after = block[:close], block[close + len(FUNCTION_CLOSE) :]
        call, problem = _read(block, closed=close != -1, tools=tools)
        if call is None:
            region.fail(body[start:end], problem)
            continue
        region.add(call, known)
        if problem:
            region.problems.append(problem)
        if after.strip():
            region.keep(after)
    if not region.calls:
        out.fail(raw, "; ".join(region.problems))
        return
    out.content.extend(region.content)
    out.calls.extend(region.calls)
    out.problems.extend(region.problems)


def _read(block: str, *, closed: bool, tools: Tools) -> tuple[TextCall | None, str]:
    """One call from the text after `<function=` (its `</function>` removed when `closed`)."""
    name, gt, params = block.partition(">")
    name = name.strip()
    if not gt or not name or "<" in name or "\n" in name:
        return None, f"a {FUNCTION}...> without a name: {head(block)}"
    props = properties(tools, name)
    arguments = {}
    found = _parameters(params)
    last_closed = found[-1][1] if found else True
    for chunk, _ in found:
        key, gt, value = chunk.partition(">")
        if not gt:
            return None, f"tool call {name!r}: a {PARAMETER} without '>' (output cut off?)"
        value = value[1:] if value.startswith("\n") else value
        value = value[:-1] if value.endswith("\n") else value
        arguments[key] = qwen_value(value, key, props)
    if not closed:
        if not last_closed or not params.strip():
            return None, f"tool call {name!r} cut off before {FUNCTION_CLOSE} (output cut off?)"
        return TextCall(name, arguments), f"tool call {name!r} without {FUNCTION_CLOSE}: read up to the end"
    if not last_closed:
        return TextCall(name, arguments), f"tool call {name!r}: a parameter without {PARAMETER_CLOSE}"
    return TextCall(name, arguments), ""


def _parameters(params: str) -> list[tuple[str, bool]]:
    """(`KEY>VALUE` text, closed) of each `<parameter=`: a value ends at `</parameter>`, else at the next
    `<parameter=` or the end (vLLM's pattern, found with plain string search)."""
    found = []
    at = params.find(PARAMETER)
    while at != -1:
        start = at + len(PARAMETER)
        following = params.find(PARAMETER, start)
        limit = following if following != -1 else len(params)
        close = params.find(PARAMETER_CLOSE, start, limit)
        found.append((params[start : close if close != -1 else limit], close != -1))
        at = following
    return found


def render_calls(calls: list[TextCall], tools: Tools) -> str:
    """The calls as Qwen3-Coder's chat template writes them."""
    blocks = []
    for call in calls:
        params = "".join(f"{PARAMETER}{k}>\n{qwen_text(v)}\n{PARAMETER_CLOSE}\n" for k, v in call.arguments.items())
        blocks.append(f"{OPEN}\n{FUNCTION}{call.name}>\n{params}{FUNCTION_CLOSE}\n{CLOSE}")
    return "\n".join(blocks)
