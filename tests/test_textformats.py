# ruff: noqa: E501
"""Test vectors for trace.textformats, written from the formats' documentation and vLLM's parser tests.

Each format gets at least: a single call, parallel calls, no call, empty arguments,
content before and after calls, JSON with angle brackets or multi-line strings in
arguments, and a missing end tag. Expected calls are written out by hand, never
produced by `render`.
"""

from __future__ import annotations

from typing import Any

import pytest

from trajforge.trace import textformats as tf
from trajforge.trace.textformats import TextCall

DS_CALLS_BEGIN, DS_CALLS_END = "<\uff5ctool\u2581calls\u2581begin\uff5c>", "<\uff5ctool\u2581calls\u2581end\uff5c>"
DS_CALL_BEGIN, DS_CALL_END = "<\uff5ctool\u2581call\u2581begin\uff5c>", "<\uff5ctool\u2581call\u2581end\uff5c>"
DS_SEP = "<\uff5ctool\u2581sep\uff5c>"
K_BEGIN, K_END = "<|tool_calls_section_begin|>", "<|tool_calls_section_end|>"
K_CALL, K_ARG, K_CALL_END = "<|tool_call_begin|>", "<|tool_call_argument_begin|>", "<|tool_call_end|>"

W = {"city": "Paris"}
HTML = {"html": "<div>content</div>", "note": "a < b && c > d"}
MULTI = {"code": "def f():\n    return '<x>'\n"}


def c(name: str, arguments: dict[str, Any] | None = None, call_id: str | None = None) -> TextCall:
    return TextCall(name, arguments if arguments is not None else {}, call_id)


# (format, case, text, expected calls, expected content, whether problems are expected)
# fmt: off
VECTORS: list[tuple[str, str, str, list[TextCall], str | None, bool]] = [
    # ---------------------------------------------------------------- hermes
    ("hermes", "single", '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>',
     [c("get_weather", W)], None, False),
    ("hermes", "parallel",
     '<tool_call>\n{"name": "a", "arguments": {"x": 1}}\n</tool_call>\n'
     '<tool_call>\n{"name": "b", "arguments": {"y": [1, 2]}}\n</tool_call>',
     [c("a", {"x": 1}), c("b", {"y": [1, 2]})], None, False),
    ("hermes", "no_call", "The weather in Paris is sunny.", [], "The weather in Paris is sunny.", False),
    ("hermes", "empty_arguments", '<tool_call>\n{"name": "get_time", "arguments": {}}\n</tool_call>',
     [c("get_time")], None, False),
    ("hermes", "string_arguments", '<tool_call>{"name": "f", "arguments": "{\\"a\\": 1}"}</tool_call>',
     [c("f", {"a": 1})], None, False),
    ("hermes", "content_around",
     'Let me check.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\nDone.',
     [c("get_weather", W)], "Let me check.\nDone.", False),
    ("hermes", "angle_brackets",
     '<tool_call>\n{"name": "render", "arguments": {"html": "<div>content</div>", "note": "a < b && c > d"}}\n</tool_call>',
     [c("render", HTML)], None, False),
    ("hermes", "multiline_string",
     '<tool_call>\n{"name": "write", "arguments": {"code": "def f():\\n    return \'<x>\'\\n"}}\n</tool_call>',
     [c("write", MULTI)], None, False),
    ("hermes", "missing_end_tag_whole_json", 'Sure.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}',
     [c("get_weather", W)], "Sure.", True),
    ("hermes", "truncated_json", 'Sure.\n<tool_call>\n{"name": "get_weather", "argu',
     [], 'Sure.\n<tool_call>\n{"name": "get_weather", "argu', True),
    ("hermes", "invalid_json_kept_other_call",
     '<tool_call>{"name": "a", "arguments": {"x": }}</tool_call><tool_call>{"name": "b", "arguments": {}}</tool_call>',
     [c("b")], '<tool_call>{"name": "a", "arguments": {"x": }}</tool_call>', True),
    # ---------------------------------------------------------------- kimi_k2 (vLLM tests' vectors)
    ("kimi_k2", "single",
     f"I'll help you check the weather. {K_BEGIN} {K_CALL}\nfunctions.get_weather:0 {K_ARG} "
     f'{{"city": "Beijing"}} {K_CALL_END} {K_END}',
     [c("get_weather", {"city": "Beijing"}, "functions.get_weather:0")], "I'll help you check the weather.", False),
    ("kimi_k2", "parallel",
     f'{K_BEGIN}{K_CALL}functions.get_weather:0{K_ARG}{{"latitude": 34.0522, "longitude": -118.2437}}{K_CALL_END}'
     f'{K_CALL}functions.get_news:1{K_ARG}{{"content": "Los Angeles today"}}{K_CALL_END}{K_END}',
     [c("get_weather", {"latitude": 34.0522, "longitude": -118.2437}, "functions.get_weather:0"),
      c("get_news", {"content": "Los Angeles today"}, "functions.get_news:1")], None, False),
    ("kimi_k2", "no_call", "This is a test", [], "This is a test", False),
    ("kimi_k2", "empty_arguments_mixed_spacing",
     f"Mixed spacing test. {K_BEGIN} {K_CALL} functions.test:0 {K_ARG} {{}} {K_CALL_END}"
     f"{K_CALL}functions.test2:1{K_ARG}{{}}{K_CALL_END} {K_END}",
     [c("test", {}, "functions.test:0"), c("test2", {}, "functions.test2:1")], "Mixed spacing test.", False),
    ("kimi_k2", "content_around",
     f'Checking. {K_BEGIN}{K_CALL}functions.get_weather:0{K_ARG}{{"city": "Paris"}}{K_CALL_END}{K_END} Then more.',
     [c("get_weather", W, "functions.get_weather:0")], "Checking.\nThen more.", False),
    ("kimi_k2", "angle_brackets",
     f'{K_BEGIN}{K_CALL}functions.render:0{K_ARG}{{"html": "<div>content</div>", "note": "a < b && c > d"}}'
     f"{K_CALL_END}{K_END}",
     [c("render", HTML, "functions.render:0")], None, False),
    ("kimi_k2", "multiline_json",
     f'{K_BEGIN}{K_CALL}functions.process_data:0{K_ARG}{{\n  "name": "test",\n  "nested": {{\n    "key": "v"\n  }}\n}}'
     f"{K_CALL_END}{K_END}",
     [c("process_data", {"name": "test", "nested": {"key": "v"}}, "functions.process_data:0")], None, False),
    ("kimi_k2", "singular_section_variant",
     f'<|tool_call_section_begin|>{K_CALL}functions.f:0{K_ARG}{{"a": 1}}{K_CALL_END}<|tool_call_section_end|>',
     [c("f", {"a": 1}, "functions.f:0")], None, False),
    ("kimi_k2", "missing_end_tags_truncated",
     f'Sure. {K_BEGIN}{K_CALL}functions.a:0{K_ARG}{{}}{K_CALL_END}{K_CALL}functions.b:1{K_ARG}{{"x": "half',
     [c("a", {}, "functions.a:0")], f'Sure.\n{K_CALL}functions.b:1{K_ARG}{{"x": "half', True),
    ("kimi_k2", "invalid_json_and_bad_id",
     f'{K_BEGIN}{K_CALL}functions.bad.0{K_ARG}{{"city": "Beijing"}}{K_CALL_END}'
     f'{K_CALL}functions.good:1{K_ARG}{{"city": "Shanghai"}}{K_CALL_END}{K_END}',
     [c("good", {"city": "Shanghai"}, "functions.good:1")],
     f'{K_CALL}functions.bad.0{K_ARG}{{"city": "Beijing"}}{K_CALL_END}', True),
    # ---------------------------------------------------------------- glm45
    ("glm45", "single", "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n</tool_call>",
     [c("get_weather", W)], None, False),
    ("glm45", "parallel",
     "<tool_call>a\n<arg_key>n</arg_key>\n<arg_value>3</arg_value>\n</tool_call>\n"
     "<tool_call>b\n<arg_key>flag</arg_key>\n<arg_value>true</arg_value>\n<arg_key>xs</arg_key>\n"
     "<arg_value>[1, 2]</arg_value>\n</tool_call>",
     [c("a", {"n": 3}), c("b", {"flag": True, "xs": [1, 2]})], None, False),
    ("glm45", "no_call", "Hello there.", [], "Hello there.", False),
    ("glm45", "empty_arguments", "<tool_call>get_time\n</tool_call>", [c("get_time")], None, False),
    ("glm45", "content_around",
     "I will look.\n<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n</tool_call>\nOk.",
     [c("get_weather", W)], "I will look.\nOk.", False),
    ("glm45", "angle_brackets_multiline",
     "<tool_call>write\n<arg_key>code</arg_key>\n<arg_value>def f():\n    return '<x>'\n</arg_value>\n</tool_call>",
     [c("write", {"code": "def f():\n    return '<x>'"})], None, False),
    ("glm45", "missing_end_tag",
     "Sure.\n<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Par",
     [], "Sure.\n<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Par", True),
    ("glm45", "glm47_style_refused",
     "<tool_call>get_weather<arg_key>city</arg_key><arg_value>Paris</arg_value></tool_call>",
     [], "<tool_call>get_weather<arg_key>city</arg_key><arg_value>Paris</arg_value></tool_call>", True),
    # ---------------------------------------------------------------- glm47
    ("glm47", "single_no_newline", "<tool_call>get_weather<arg_key>city</arg_key><arg_value>Paris</arg_value></tool_call>",
     [c("get_weather", W)], None, False),
    ("glm47", "newline_style_too",
     "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n</tool_call>",
     [c("get_weather", W)], None, False),
    ("glm47", "literal_backslash_n_between",
     "<tool_call>f<arg_key>n</arg_key>\\n<arg_value>7</arg_value></tool_call>", [c("f", {"n": 7})], None, False),
    ("glm47", "parallel",
     "<tool_call>a<arg_key>x</arg_key><arg_value>1</arg_value></tool_call>"
     "<tool_call>b<arg_key>y</arg_key><arg_value>{\"k\": null}</arg_value></tool_call>",
     [c("a", {"x": 1}), c("b", {"y": {"k": None}})], None, False),
    ("glm47", "no_call", "Nothing to call.", [], "Nothing to call.", False),
    ("glm47", "empty_arguments", "<tool_call>get_time</tool_call>", [c("get_time")], None, False),
    ("glm47", "content_around",
     "Before.<tool_call>get_weather<arg_key>city</arg_key><arg_value>Paris</arg_value></tool_call>After.",
     [c("get_weather", W)], "Before.\nAfter.", False),
    ("glm47", "angle_brackets", '<tool_call>render<arg_key>html</arg_key><arg_value>"<div>content</div>"</arg_value>'
     '<arg_key>note</arg_key><arg_value>a < b && c > d</arg_value></tool_call>',
     [c("render", {"html": "<div>content</div>", "note": "a < b && c > d"})], None, False),
    ("glm47", "missing_end_tag", "<tool_call>get_weather<arg_key>city</arg_key><arg_value>Paris</arg_value>",
     [], "<tool_call>get_weather<arg_key>city</arg_key><arg_value>Paris</arg_value>", True),
    # ---------------------------------------------------------------- qwen3_coder
    ("qwen3_coder", "single",
     "<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n</function>\n</tool_call>",
     [c("get_weather", W)], None, False),
    ("qwen3_coder", "parallel",
     "<tool_call>\n<function=a>\n<parameter=x>\n1\n</parameter>\n</function>\n</tool_call>\n"
     "<tool_call>\n<function=b>\n<parameter=y>\ntwo\n</parameter>\n</function>\n</tool_call>",
     [c("a", {"x": "1"}), c("b", {"y": "two"})], None, False),
    ("qwen3_coder", "no_call", "Plain answer.", [], "Plain answer.", False),
    ("qwen3_coder", "empty_arguments", "<tool_call>\n<function=get_time>\n</function>\n</tool_call>",
     [c("get_time")], None, False),
    ("qwen3_coder", "content_around",
     "Let me see.\n<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n</function>\n"
     "</tool_call>\nDone.",
     [c("get_weather", W)], "Let me see.\nDone.", False),
    ("qwen3_coder", "multiline_angle_brackets",
     "<tool_call>\n<function=write>\n<parameter=code>\ndef f():\n    return '<x>'\n\n</parameter>\n</function>\n</tool_call>",
     [c("write", MULTI)], None, False),
    ("qwen3_coder", "no_tool_call_wrapper", "<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n</function>",
     [c("get_weather", W)], None, False),
    ("qwen3_coder", "missing_end_tags_closed_params",
     "<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n",
     [c("get_weather", W)], None, True),
    ("qwen3_coder", "truncated_value",
     "Sure.\n<tool_call>\n<function=write>\n<parameter=code>\nprint('hal",
     [], "Sure.\n<tool_call>\n<function=write>\n<parameter=code>\nprint('hal", True),
    # ---------------------------------------------------------------- deepseek_v3
    ("deepseek_v3", "single",
     f'{DS_CALLS_BEGIN}{DS_CALL_BEGIN}function{DS_SEP}get_weather\n```json\n{{"city": "Paris"}}\n```{DS_CALL_END}'
     f"{DS_CALLS_END}",
     [c("get_weather", W)], None, False),
    ("deepseek_v3", "parallel",
     f'{DS_CALLS_BEGIN}{DS_CALL_BEGIN}function{DS_SEP}a\n```json\n{{"x": 1}}\n```{DS_CALL_END}\n'
     f'{DS_CALL_BEGIN}function{DS_SEP}b\n```json\n{{"y": 2}}\n```{DS_CALL_END}{DS_CALLS_END}',
     [c("a", {"x": 1}), c("b", {"y": 2})], None, False),
    ("deepseek_v3", "no_call", "No tools here.", [], "No tools here.", False),
    ("deepseek_v3", "empty_arguments",
     f"{DS_CALLS_BEGIN}{DS_CALL_BEGIN}function{DS_SEP}get_time\n```json\n{{}}\n```{DS_CALL_END}{DS_CALLS_END}",
     [c("get_time")], None, False),
    ("deepseek_v3", "content_around",
     f'Checking.{DS_CALLS_BEGIN}{DS_CALL_BEGIN}function{DS_SEP}get_weather\n```json\n{{"city": "Paris"}}\n```'
     f"{DS_CALL_END}{DS_CALLS_END}Then this.<\uff5cend\u2581of\u2581sentence\uff5c>",
     [c("get_weather", W)], "Checking.\nThen this.", False),
    ("deepseek_v3", "multiline_angle_brackets",
     f'{DS_CALLS_BEGIN}{DS_CALL_BEGIN}function{DS_SEP}render\n```json\n{{\n  "html": "<div>content</div>",\n'
     f'  "note": "a < b && c > d"\n}}\n```{DS_CALL_END}{DS_CALLS_END}',
     [c("render", HTML)], None, False),
    ("deepseek_v3", "missing_end_tags",
     f'{DS_CALLS_BEGIN}{DS_CALL_BEGIN}function{DS_SEP}get_weather\n```json\n{{"city": "Pa',
     [], f'{DS_CALL_BEGIN}function{DS_SEP}get_weather\n```json\n{{"city": "Pa', True),
    # ---------------------------------------------------------------- deepseek_v31
    ("deepseek_v31", "single", f'{DS_CALLS_BEGIN}{DS_CALL_BEGIN}get_weather{DS_SEP}{{"city": "Paris"}}{DS_CALL_END}'
     f"{DS_CALLS_END}", [c("get_weather", W)], None, False),
    ("deepseek_v31", "parallel",
     f'{DS_CALLS_BEGIN}{DS_CALL_BEGIN}a{DS_SEP}{{"x": 1}}{DS_CALL_END}{DS_CALL_BEGIN}b{DS_SEP}{{"y": 2}}{DS_CALL_END}'
     f"{DS_CALLS_END}",
     [c("a", {"x": 1}), c("b", {"y": 2})], None, False),
    ("deepseek_v31", "no_call", "Just words.", [], "Just words.", False),
    ("deepseek_v31", "empty_arguments", f"{DS_CALLS_BEGIN}{DS_CALL_BEGIN}get_time{DS_SEP}{{}}{DS_CALL_END}{DS_CALLS_END}",
     [c("get_time")], None, False),
    ("deepseek_v31", "content_around",
     f'Before.{DS_CALLS_BEGIN}{DS_CALL_BEGIN}get_weather{DS_SEP}{{"city": "Paris"}}{DS_CALL_END}{DS_CALLS_END}After.',
     [c("get_weather", W)], "Before.\nAfter.", False),
    ("deepseek_v31", "multiline_angle_brackets",
     f'{DS_CALLS_BEGIN}{DS_CALL_BEGIN}write{DS_SEP}{{"code": "def f():\\n    return \'<x>\'\\n"}}{DS_CALL_END}'
     f"{DS_CALLS_END}",
     [c("write", MULTI)], None, False),
    ("deepseek_v31", "missing_end_tags", f'{DS_CALLS_BEGIN}{DS_CALL_BEGIN}get_weather{DS_SEP}{{"city": "Paris"}}',
     [], f'{DS_CALL_BEGIN}get_weather{DS_SEP}{{"city": "Paris"}}', True),
    # ---------------------------------------------------------------- llama3_json
    ("llama3_json", "single", '{"name": "get_weather", "parameters": {"city": "Paris"}}', [c("get_weather", W)], None,
     False),
    ("llama3_json", "python_tag_arguments_key", '<|python_tag|>{"name": "get_weather", "arguments": {"city": "Paris"}}',
     [c("get_weather", W)], None, False),
    ("llama3_json", "parallel_semicolon",
     '{"name": "a", "parameters": {"x": 1}}; {"name": "b", "parameters": {"y": 2}}',
     [c("a", {"x": 1}), c("b", {"y": 2})], None, False),
    ("llama3_json", "no_call", "The answer is 42.", [], "The answer is 42.", False),
    ("llama3_json", "empty_arguments", '{"name": "get_time", "parameters": {}}', [c("get_time")], None, False),
    ("llama3_json", "content_around", 'Let me check.\n{"name": "get_weather", "parameters": {"city": "Paris"}}\nOk.',
     [c("get_weather", W)], "Let me check.\nOk.", False),
    ("llama3_json", "angle_brackets_multiline",
     '{"name": "render", "parameters": {"html": "<div>content</div>", "note": "a < b && c > d"}}',
     [c("render", HTML)], None, False),
    ("llama3_json", "truncated", '{"name": "get_weather", "parameters": {"city": "Pa',
     [], '{"name": "get_weather", "parameters": {"city": "Pa', True),
    ("llama3_json", "object_without_name_all_content", '{"name": "a", "parameters": {}}; {"x": 1}',
     [], '{"name": "a", "parameters": {}}; {"x": 1}', True),
    # ---------------------------------------------------------------- mistral
    ("mistral", "pre_v11_single", '[TOOL_CALLS] [{"name": "get_weather", "arguments": {"city": "Paris"}}]',
     [c("get_weather", W)], None, False),
    ("mistral", "pre_v11_parallel_with_ids",
     '[TOOL_CALLS] [{"name": "a", "arguments": {"x": 1}, "id": "abc123def"}, {"name": "b", "arguments": {}, '
     '"id": "zyx987wvu"}]',
     [c("a", {"x": 1}, "abc123def"), c("b", {}, "zyx987wvu")], None, False),
    ("mistral", "v11_parallel", '[TOOL_CALLS]a{"x": 1}[TOOL_CALLS]b{"y": 2}', [c("a", {"x": 1}), c("b", {"y": 2})],
     None, False),
    ("mistral", "v13_args_and_call_id", '[TOOL_CALLS]get_weather[CALL_ID]abc123def[ARGS]{"city": "Paris"}',
     [c("get_weather", W, "abc123def")], None, False),
    ("mistral", "no_call", "Bonjour.", [], "Bonjour.", False),
    ("mistral", "empty_arguments", "[TOOL_CALLS]get_time[ARGS]{}", [c("get_time")], None, False),
    ("mistral", "content_before", 'Let me check.[TOOL_CALLS]get_weather[ARGS]{"city": "Paris"}',
     [c("get_weather", W)], "Let me check.", False),
    ("mistral", "angle_brackets_multiline", '[TOOL_CALLS]write[ARGS]{"code": "def f():\\n    return \'<x>\'\\n"}',
     [c("write", MULTI)], None, False),
    ("mistral", "truncated", 'Ok.[TOOL_CALLS]get_weather[ARGS]{"city": "Pa', [],
     'Ok.\n[TOOL_CALLS]get_weather[ARGS]{"city": "Pa', True),
    # ---------------------------------------------------------------- pythonic
    ("pythonic", "single", "[get_weather(city='Paris')]", [c("get_weather", W)], None, False),
    ("pythonic", "parallel", "[a(x=1, flag=True, none=None), b(y=[1, 2], z={'k': 'v'})]",
     [c("a", {"x": 1, "flag": True, "none": None}), c("b", {"y": [1, 2], "z": {"k": "v"}})], None, False),
    ("pythonic", "no_call", "No calls [just brackets].", [], "No calls [just brackets].", False),
    ("pythonic", "empty_arguments", "[get_time()]", [c("get_time")], None, False),
    ("pythonic", "content_before", "Let me check.\n[get_weather(city='Paris')]", [c("get_weather", W)],
     "Let me check.", False),
    ("pythonic", "llama4_wrapper_content_around", "Sure.<|python_start|>[get_weather(city='Paris')]<|python_end|>Done.",
     [c("get_weather", W)], "Sure.\nDone.", False),
    ("pythonic", "angle_brackets_multiline", "[write(code='def f():\\n    return \\'<x>\\'\\n')]",
     [c("write", MULTI)], None, False),
    ("pythonic", "truncated", "[get_weather(city='Par", [], "[get_weather(city='Par", True),
    ("pythonic", "not_literal", "[run(cmd=os.system('x'))]", [], "[run(cmd=os.system('x'))]", True),
]


@pytest.mark.parametrize(
    ("fmt", "text", "calls", "content", "problems"),
    [pytest.param(f, t, cs, ct, p, id=f"{f}-{name}") for f, name, t, cs, ct, p in VECTORS],
)
def test_vector(fmt: str, text: str, calls: list[TextCall], content: str | None, problems: bool) -> None:
    parsed = tf.parse(fmt, text, reasoning=None)
    assert parsed.tool_calls == calls
    assert parsed.content == content
    assert bool(parsed.problems) == problems, parsed.problems


def test_every_format_has_the_required_vectors() -> None:
    for fmt in tf.formats():
        names = [name for f, name, *_ in VECTORS if f == fmt]
        assert len(names) >= 6, fmt
        assert any("no_call" in n for n in names) and any("empty" in n for n in names), fmt


# ---------------------------------------------------------------- schema typing

WEATHER_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "f",
            "parameters": {
                "type": "object",
                "properties": {
                    "s": {"type": "string"},
                    "n": {"type": "integer"},
                    "x": {"type": "number"},
                    "b": {"type": "boolean"},
                    "o": {"type": "object"},
                    "a": {"type": "array"},
                },
            },
        },
    }
]


def test_glm_values_typed_by_schema() -> None:
    text = (
        "<tool_call>f\n<arg_key>s</arg_key>\n<arg_value> 123 </arg_value>\n<arg_key>n</arg_key>\n<arg_value>7"
        "</arg_value>\n<arg_key>b</arg_key>\n<arg_value>false</arg_value>\n<arg_key>o</arg_key>\n<arg_value>"
        "{'k': (1, 2)}</arg_value>\n</tool_call>"
    )
    typed = tf.parse("glm45", text, WEATHER_TOOLS).tool_calls[0].arguments
    assert typed == {"s": " 123 ", "n": 7, "b": False, "o": {"k": [1, 2]}}
    untyped = tf.parse("glm45", text).tool_calls[0].arguments
    assert untyped["s"] == 123  # vLLM reads every value without a schema as JSON first


def test_qwen3_coder_values_typed_by_schema() -> None:
    body = "".join(
        f"<parameter={k}>\n{v}\n</parameter>\n"
        for k, v in [("s", "007"), ("n", "007"), ("x", "2.0"), ("b", "True"), ("o", '{"k": 1}'), ("a", "[1, 'x']")]
    )
    text = f"<tool_call>\n<function=f>\n{body}<parameter=extra>\nnull\n</parameter>\n</function>\n</tool_call>"
    typed = tf.parse("qwen3_coder", text, WEATHER_TOOLS).tool_calls[0].arguments
    assert typed == {"s": "007", "n": 7, "x": 2, "b": True, "o": {"k": 1}, "a": [1, "x"], "extra": None}
    untyped = tf.parse("qwen3_coder", text).tool_calls[0].arguments
    assert untyped["n"] == "007" and untyped["b"] == "True" and untyped["extra"] is None


def test_unknown_tool_name_is_kept_and_told() -> None:
    parsed = tf.parse("hermes", '<tool_call>{"name": "nope", "arguments": {}}</tool_call>', WEATHER_TOOLS)
    assert parsed.tool_calls == [c("nope")]
    assert any("unknown tool 'nope'" in p for p in parsed.problems)


# ---------------------------------------------------------------- reasoning styles


@pytest.mark.parametrize(
    ("style", "text", "reasoning", "content"),
    [
        ("deepseek_r1", "<think>plan</think>answer", "plan", "answer"),
        ("deepseek_r1", "plan</think>answer", "plan", "answer"),  # no start tag: the template opened it
        ("deepseek_r1", "just thinking, cut off", "just thinking, cut off", None),
        ("qwen3", "plan<tool_call>\n<function=f>\n</function>\n</tool_call>", "plan",
         "<tool_call>\n<function=f>\n</function>\n</tool_call>"),
        ("qwen3", "mentions <tool_call> in passing", "mentions <tool_call> in passing", None),
        ("glm45", "<think>plan</think>answer", "plan", "answer"),
        ("glm45", "plan</think>answer", None, "plan</think>answer"),  # GLM needs both tags
        ("glm45", "no tags", None, "no tags"),
        ("kimi_k2", f"plan{K_BEGIN}{K_CALL}functions.f:0{K_ARG}{{}}{K_CALL_END}{K_END}", "plan",
         f"{K_BEGIN}{K_CALL}functions.f:0{K_ARG}{{}}{K_CALL_END}{K_END}"),
        ("kimi_k2", "<think>plan</think>(no content)", "plan", None),
        ("think", "no tags at all", None, "no tags at all"),
        ("think", "plan</think>answer", "plan", "answer"),
        ("think", "<think>cut off", "cut off", None),
        ("mistral", "[THINK]plan[/THINK]answer", "plan", "answer"),
    ],
)
def test_reasoning_styles(style: str, text: str, reasoning: str | None, content: str | None) -> None:
    fmt = "qwen3_coder" if style == "qwen3" else "kimi_k2" if style == "kimi_k2" else "hermes"
    parsed = tf.parse(fmt, text, reasoning=style)
    assert parsed.reasoning == reasoning
    if parsed.tool_calls:
        assert parsed.content is None
    else:
        assert parsed.content == content


def test_kimi_implicit_end_of_thinking_gives_the_calls() -> None:
    text = f'<think>I should call it{K_BEGIN}{K_CALL}functions.f:0{K_ARG}{{"a": 1}}{K_CALL_END}{K_END}'
    parsed = tf.parse("kimi_k2", text)
    assert parsed.reasoning == "I should call it"
    assert parsed.tool_calls == [c("f", {"a": 1}, "functions.f:0")]
    assert parsed.content is None and parsed.problems == []


def test_unclosed_think_is_reported() -> None:
    parsed = tf.parse("hermes", "<think>halfway through a thought")
    assert parsed.reasoning == "halfway through a thought" and parsed.content is None
    assert parsed.problems


def test_unknown_names_raise_one_clear_error() -> None:
    with pytest.raises(tf.UnknownFormat, match="known: hermes"):
        tf.parse("nope", "x")
    with pytest.raises(tf.UnknownFormat, match="reasoning style"):
        tf.parse("hermes", "x", reasoning="nope")


def test_render_refuses_what_the_format_cannot_express() -> None:
    with pytest.raises(tf.RenderError, match="<tool_call>"):
        tf.render("hermes", None, "see <tool_call> here", [c("f")])
    with pytest.raises(tf.RenderError, match="</arg_value>"):
        tf.render("glm47", None, None, [c("f", {"s": "x</arg_value>"})])
    with pytest.raises(tf.RenderError, match="Python name"):
        tf.render("pythonic", None, None, [c("f", {"class": 1})])
    with pytest.raises(tf.RenderError, match="think"):
        tf.render("hermes", "a </think> b", None, [])
