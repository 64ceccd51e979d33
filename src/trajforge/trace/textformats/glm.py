"""GLM-4.5/4.6 (`glm45`) and GLM-4.7 (`glm47`).

`<tool_call>NAME<arg_key>K</arg_key><arg_value>V</arg_value></tool_call>`.

Follows vLLM's `glm4_moe_tool_parser.py` and `glm47_moe_tool_parser.py`: GLM-4.5 puts
the name on the first line (`<tool_call>([^\\n]*)\\n(.*)</tool_call>`), GLM-4.7 allows no
newline after it (the name is what comes before the first `<arg_key>`) and `\\n`
written out between a key and its value. Values whose schema type is `string` are
kept verbatim; others are stripped and read as JSON, then as a Python literal, then
kept as text.
"""

from __future__ import annotations

from trajforge.trace.textformats.model import Extracted, TextCall
from trajforge.trace.textformats.scan import regions
from trajforge.trace.textformats.values import Tools, glm_text, glm_value, head, is_string, properties, tool_names

OPEN, CLOSE = "<tool_call>", "</tool_call>"
KEY_OPEN, KEY_CLOSE, VALUE_OPEN, VALUE_CLOSE = "<arg_key>", "</arg_key>", "<arg_value>", "</arg_value>"
TAGS = (OPEN, CLOSE, KEY_OPEN, KEY_CLOSE, VALUE_OPEN, VALUE_CLOSE)


def extract(text: str, tools: Tools, *, newline_after_name: bool) -> Extracted:
    """Calls and the text around them; `newline_after_name` True for GLM-4.5, False for GLM-4.7."""
    out, known = Extracted(), tool_names(tools)
    for piece in regions(text, OPEN, CLOSE):
        if isinstance(piece, str):
            out.keep(piece)
        elif not piece.closed:
            out.fail(piece.raw, f"{OPEN} without {CLOSE} (output cut off?): {head(piece.inner)}")
        else:
            call, problem = _read(piece.inner, tools, newline_after_name)
            if call is None:
                out.fail(piece.raw, problem)
            else:
                out.add(call, known)
                if problem:
                    out.problems.append(problem)
    return out


def _read(inner: str, tools: Tools, newline_after_name: bool) -> tuple[TextCall | None, str]:
    """One call from the text between the tags, and a problem line ('' when none)."""
    if newline_after_name:
        name, nl, body = inner.partition("\n")
        if not nl:
            hint = " (GLM-4.7 writes none: use glm47)" if KEY_OPEN in inner else ""
            return None, f"no newline after the tool name in {head(inner)}{hint}"
    else:
        at = inner.find(KEY_OPEN)
        name, body = (inner[:at], inner[at:]) if at != -1 else (inner, "")
    name = name.strip()
    if not name or "<" in name or "\n" in name:
        return None, f"no tool name in {head(inner)}"
    props = properties(tools, name)
    arguments = {}
    pairs, unpaired = _pairs(body, allow_escaped_newline=not newline_after_name)
    for key, value in pairs:
        key = key.strip()
        arguments[key] = glm_value(value, is_string(props, key))
    problem = ""
    if unpaired:
        problem = f"tool call {name!r}: an {KEY_OPEN} without its {VALUE_OPEN}...{VALUE_CLOSE} was left out"
    return TextCall(name, arguments), problem


def _pairs(body: str, *, allow_escaped_newline: bool) -> tuple[list[tuple[str, str]], bool]:
    """(key, value) pairs in order, and whether a key went without a value.

    A linear scan with vLLM's rules (`<arg_key>K</arg_key>`, whitespace, `<arg_value>V</arg_value>`;
    GLM-4.7 also lets `\\n` written out stand between them); its regex, rescanning to the
    end for every key of an unclosed value, took minutes on a long cut-off call.
    """
    pairs: list[tuple[str, str]] = []
    pos, unpaired = 0, False
    while (start := body.find(KEY_OPEN, pos)) != -1:
        key_end = body.find(KEY_CLOSE, start)
        if key_end == -1:
            return pairs, True
        gap = key_end + len(KEY_CLOSE)
        value_at = body.find(VALUE_OPEN, gap)
        between = body[gap:value_at] if value_at != -1 else ""
        if allow_escaped_newline:
            between = between.replace("\\n", "")
        if value_at == -1 or between.strip():
            unpaired, pos = True, gap
            continue
        value_start = value_at + len(VALUE_OPEN)
        value_end = body.find(VALUE_CLOSE, value_start)
        if value_end == -1:
            return pairs, True
        pairs.append((body[start + len(KEY_OPEN) : key_end], body[value_start:value_end]))
        pos = value_end + len(VALUE_CLOSE)
    return pairs, unpaired


def render_calls(calls: list[TextCall], tools: Tools, *, newline_after_name: bool) -> str:
    """The calls as GLM writes them (GLM-4.5 one tag a line, GLM-4.7 all on one line)."""
    sep = "\n" if newline_after_name else ""
    blocks = []
    for call in calls:
        props = properties(tools, call.name)
        parts = [f"{OPEN}{call.name}"]
        for key, value in call.arguments.items():
            text = glm_text(value, is_string(props, key))
            parts.append(f"{KEY_OPEN}{key}{KEY_CLOSE}{sep}{VALUE_OPEN}{text}{VALUE_CLOSE}")
        blocks.append(sep.join(parts) + (sep if newline_after_name else "") + CLOSE)
    return "\n".join(blocks)
