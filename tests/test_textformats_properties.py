"""Properties of trace.textformats: parse(render(x)) == x where a format can express x; no input raises."""

from __future__ import annotations

import keyword
import string
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from trajforge.trace import textformats as tf
from trajforge.trace.textformats import ParsedText, TextCall

FORMATS = tf.formats()
NAMES = st.from_regex(r"[a-z_][a-z0-9_]{0,12}", fullmatch=True).filter(lambda n: not keyword.iskeyword(n))
TEXT = st.text(min_size=1, max_size=40).map(str.strip).filter(bool)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False, width=64)
    | st.text(max_size=30)
)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NAMES, inner, max_size=3),
                      max_leaves=8)  # fmt: skip
ARGUMENTS = st.dictionaries(NAMES, VALUES, max_size=4)
CALLS = st.lists(st.tuples(NAMES, ARGUMENTS), max_size=3, unique_by=lambda call: call[0])


def _schema_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return {float: "number", str: "string", dict: "object", list: "array"}.get(type(value), "null")


def _tools(calls: list[TextCall]) -> list[dict[str, Any]]:
    """Tool definitions whose schema types match the generated values (what GLM and Qwen3-Coder need)."""
    return [
        {"type": "function", "function": {"name": call.name, "parameters": {"type": "object", "properties": {
            key: {"type": _schema_type(value)} for key, value in call.arguments.items()}}}}
        for call in calls
    ]  # fmt: skip


def _expressible_values(fmt: str, calls: list[TextCall]) -> bool:
    """Values a format writes as plain text under a schema type and cannot bring back otherwise."""
    if fmt != "qwen3_coder":
        return True
    # Qwen3-Coder reads a bare `null` as None whatever the type.
    return all(not (isinstance(v, str) and v.lower() == "null") for call in calls for v in call.arguments.values())


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    fmt=st.sampled_from(FORMATS),
    reasoning=st.none() | TEXT,
    content=st.none() | TEXT,
    raw_calls=CALLS,
    with_ids=st.booleans(),
)
def test_round_trip(
    fmt: str, reasoning: str | None, content: str | None, raw_calls: list[tuple[str, dict[str, Any]]], with_ids: bool
) -> None:
    ids = {"kimi_k2": "functions.{name}:{index}", "mistral": "id{index:07d}"}
    pattern = ids.get(fmt) if with_ids or fmt == "kimi_k2" else None
    calls = [
        TextCall(name, arguments, pattern.format(name=name, index=i) if pattern else None)
        for i, (name, arguments) in enumerate(raw_calls)
    ]
    assume(_expressible_values(fmt, calls))
    tools = _tools(calls)
    try:
        text = tf.render(fmt, reasoning, content, calls, tools=tools)
    except tf.RenderError:
        assume(False)
    parsed = tf.parse(fmt, text, tools)
    assert parsed == ParsedText(reasoning, content, calls, []), text


TAGS = [
    "<tool_call>", "</tool_call>", "<think>", "</think>", "<arg_key>", "</arg_key>", "<arg_value>", "</arg_value>",
    "<function=", "</function>", "<parameter=", "</parameter>", "<|tool_calls_section_begin|>",
    "<|tool_calls_section_end|>", "<|tool_call_begin|>", "<|tool_call_argument_begin|>", "<|tool_call_end|>",
    "<\uff5ctool\u2581calls\u2581begin\uff5c>", "<\uff5ctool\u2581call\u2581begin\uff5c>",
    "<\uff5ctool\u2581sep\uff5c>", "<\uff5ctool\u2581call\u2581end\uff5c>", "[TOOL_CALLS]", "[ARGS]", "[CALL_ID]",
    "<|python_tag|>",
    "<|python_start|>", "<|python_end|>", "[THINK]", "[/THINK]", "{", "}", "[", "]", "(", ")", '"', "'", "\n", ":",
    "functions.f:0", "```json\n", "null", "=",
]  # fmt: skip
TAG_SOUP = st.lists(st.sampled_from(TAGS) | st.text(alphabet=string.printable, max_size=6), max_size=30).map("".join)


def _check(parsed: ParsedText) -> None:
    assert parsed.reasoning is None or isinstance(parsed.reasoning, str)
    assert parsed.content is None or isinstance(parsed.content, str)
    for call in parsed.tool_calls:
        assert isinstance(call.name, str) and call.name
        assert isinstance(call.arguments, dict)
    assert all(isinstance(p, str) for p in parsed.problems)


@settings(max_examples=300)
@given(fmt=st.sampled_from(FORMATS), text=st.text(max_size=200) | TAG_SOUP,
       style=st.sampled_from([tf.FORMAT_DEFAULT, None, *tf.REASONING_STYLES]))  # fmt: skip
def test_no_input_raises(fmt: str, text: str, style: str | None) -> None:
    _check(tf.parse(fmt, text, reasoning=style))


@settings(max_examples=200)
@given(fmt=st.sampled_from(FORMATS), raw_calls=CALLS, cut=st.floats(0, 1), insert=st.sampled_from(TAGS),
       where=st.floats(0, 1))  # fmt: skip
def test_damaged_output_never_raises(
    fmt: str, raw_calls: list[tuple[str, dict[str, Any]]], cut: float, insert: str, where: float
) -> None:
    """Rendered turns cut off anywhere (max_tokens) or with a stray tag inserted still parse, without raising."""
    calls = [TextCall(name, arguments) for name, arguments in raw_calls]
    tools = _tools(calls)
    assume(_expressible_values(fmt, calls))
    try:
        text = tf.render(fmt, "thinking", "Some content.", calls, tools=tools)
    except tf.RenderError:
        assume(False)
    at = int(len(text) * where)
    _check(tf.parse(fmt, text[:at] + insert + text[at:], tools))
    truncated = tf.parse(fmt, text[: int(len(text) * cut)], tools)
    _check(truncated)
    # A cut never yields a call with a value cut short: each call read is one of the calls written
    # (Qwen3-Coder, like vLLM, reads a call cut between two parameters: with the whole ones, and says so).
    for call in truncated.tool_calls:
        same = [c for c in calls if c.name == call.name]
        assert same, call
        if fmt == "qwen3_coder" and call not in calls:
            assert all(same[0].arguments[k] == v for k, v in call.arguments.items())
            assert truncated.problems
        else:
            assert (call.name, call.arguments) in [(c.name, c.arguments) for c in calls], (call, calls)


def test_huge_and_deep_inputs_do_not_raise() -> None:
    deep = "[" * 5000 + "]" * 5000
    for fmt in FORMATS:
        _check(tf.parse(fmt, '<tool_call>{"name": "f", "arguments": ' + deep + "}</tool_call>"))
        _check(tf.parse(fmt, "[f(x=" + deep + ")]"))
        _check(tf.parse(fmt, "{" * 100_000))
        _check(tf.parse(fmt, "<tool_call>" * 10_000))
