"""The model client's `--tool-format` and `--api completions` paths, against the scripted server.

A server that leaves Kimi-K2's calls in `content` (no `--tool-call-parser`) must give the
same episode as one that returns `tool_calls`, the calls marked with where they came from.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

from trajforge.trace import Episode, to_record

from .harness import episode_against, ledger_records
from .scripted_server import ScriptedServer, call, reply
from .test_cli import run

K_BEGIN, K_END = "<|tool_calls_section_begin|>", "<|tool_calls_section_end|>"
WRITE = {"path": "hi.sh", "content": "echo '<hi>'\n"}
RUN = {"command": "bash hi.sh"}


def kimi(*calls: tuple[str, dict[str, Any]], start: int = 0) -> str:
    """Calls as Kimi-K2 writes them (section, call, argument tokens; ids functions.NAME:IDX)."""
    body = "".join(
        f"<|tool_call_begin|>functions.{name}:{start + i}<|tool_call_argument_begin|>{json.dumps(args)}"
        "<|tool_call_end|>"
        for i, (name, args) in enumerate(calls)
    )
    return f"{K_BEGIN}{body}{K_END}"


PARSED_BY_SERVER = [
    reply(
        reasoning="Write it.",
        content="Writing the script.",
        calls=[call("write_file", WRITE, "functions.write_file:0")],
    ),
    reply(reasoning="Run it.", calls=[call("terminal", RUN, "functions.terminal:1")]),
    reply(reasoning="It printed <hi>.", content="The script prints <hi>."),
]
LEFT_IN_CONTENT = [
    reply(reasoning="Write it.", content="Writing the script." + kimi(("write_file", WRITE))),
    reply(reasoning="Run it.", content=kimi(("terminal", RUN), start=1)),
    reply(reasoning="It printed <hi>.", content="The script prints <hi>."),
]


def _episode(script: list[dict[str, Any]], **model: Any) -> tuple[Episode, ScriptedServer]:
    with ScriptedServer(script) as server:
        episode = asyncio.run(episode_against(server, **model))
    return episode, server


def _comparable(episode: Episode) -> dict[str, Any]:
    """The record without what differs between two runs of the same episode (ids, clocks, the call's source)."""
    record = to_record(episode)
    for key in ("id", "timing", "started_at", "wall_seconds"):
        record.pop(key)
    for message in record["messages"]:
        for tool_call in message.get("tool_calls") or []:
            tool_call.pop("source", None)
    # each local sandbox has a workspace folder of its own, named in the system prompt
    return json.loads(re.sub(r"/tmp/[\w.-]+/workspace", "WORKSPACE", json.dumps(record)))


def test_kimi_calls_in_content_give_the_same_episode_as_tool_calls() -> None:
    expected, _ = _episode(PARSED_BY_SERVER)
    got, server = _episode(LEFT_IN_CONTENT, tool_format="kimi_k2")
    assert expected.finish == got.finish == "stop"
    assert _comparable(got) == _comparable(expected)
    calls = [c for m in got.messages for c in m.tool_calls]
    assert [c.id for c in calls] == ["functions.write_file:0", "functions.terminal:1"]
    assert {c.source for c in calls} == {"content:kimi_k2"}
    assert {c.source for m in expected.messages for c in m.tool_calls} == {None}
    # What went back to the server is the parsed turn, as if the server had parsed it.
    assert server.requests[0]["skip_special_tokens"] is False  # Kimi's section tokens are special tokens
    sent = server.requests[1]["messages"][2]
    assert sent["content"] == "Writing the script." and sent["tool_calls"][0]["function"]["name"] == "write_file"


def test_without_a_tool_format_the_calls_stay_text() -> None:
    """What happened before: the calls were lost as calls and the episode ended as if the model had answered."""
    got, _ = _episode(LEFT_IN_CONTENT)
    assert got.finish == "stop" and len([m for m in got.messages if m.role == "assistant"]) == 1
    assert K_BEGIN in (got.messages[-1].content or "")


def test_broken_calls_in_content_stay_content() -> None:
    broken = "Let me try." + K_BEGIN + '<|tool_call_begin|>functions.terminal:0<|tool_call_argument_begin|>{"command": '
    got, _ = _episode([reply(content=broken)], tool_format="kimi_k2")
    assert got.finish == "stop"
    assert got.messages[-1].content == broken and got.messages[-1].tool_calls == []


KIMI_TEMPLATE = (
    "{% for m in messages %}<|im_{{ m.role }}|>{{ m.content }}"
    "{% if m.tool_calls %}<|tool_calls_section_begin|>{% for c in m.tool_calls %}<|tool_call_begin|>{{ c.id }}"
    "<|tool_call_argument_begin|>{{ c.function.arguments | tojson }}<|tool_call_end|>{% endfor %}"
    "<|tool_calls_section_end|>{% endif %}<|im_end|>{% endfor %}"
    "{% if tools %}<|tools|>{{ tools | tojson }}{% endif %}"
    "{% if add_generation_prompt %}{{ bos_token }}<|im_assistant|>{% endif %}"
)


def _completion(text: str) -> dict[str, Any]:
    return {"body": {"object": "text_completion", "choices": [{"index": 0, "text": text, "finish_reason": "stop"}],
                     "usage": {"prompt_tokens": 11, "completion_tokens": 5}}}  # fmt: skip


def test_api_completions_builds_the_prompt_and_parses_the_generation(tmp_path: Path) -> None:
    config = tmp_path / "tokenizer_config.json"
    config.write_text(json.dumps({"chat_template": KIMI_TEMPLATE, "bos_token": {"content": "[BOS]"}}))
    script = [
        _completion("<think>Write it.</think>Writing." + kimi(("write_file", WRITE))),
        _completion("Run it.</think>" + kimi(("terminal", RUN), start=1)),  # thinking opened by the template
        _completion("<think>Done.</think>The script prints <hi>."),
    ]
    with ScriptedServer(script, models=[{"id": "org/kimi-raw"}]) as server:
        result = run(
            "run-task", "--prompt", "Write hi.sh and run it.", "--endpoint", server.url, "--model", "org/kimi-raw",
            "--out", tmp_path / "out", "--api", "completions", "--tool-format", "kimi_k2", "--chat-template", config,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (record,) = ledger_records(tmp_path / "out", "kimi-raw")
    assert record["finish"] == "stop"
    assistant = [m for m in record["messages"] if m["role"] == "assistant"]
    assert [m["reasoning"] for m in assistant] == ["Write it.", "Run it.", "Done."]
    assert assistant[0]["content"] == "Writing." and assistant[2]["content"] == "The script prints <hi>."
    assert assistant[1]["tool_calls"] == [
        {"id": "functions.terminal:1", "name": "terminal", "arguments": RUN, "source": "completions:kimi_k2"}
    ]
    first, second = server.requests[0], server.requests[1]
    assert "messages" not in first and first["skip_special_tokens"] is False
    assert first["prompt"].endswith("[BOS]<|im_assistant|>") and "Write hi.sh and run it." in first["prompt"]
    assert '"name": "write_file"' in first["prompt"]  # the tools reached the template
    # The earlier turn went back in the model's own format, arguments as an object.
    assert "<|tool_call_begin|>functions.write_file:0<|tool_call_argument_begin|>" in second["prompt"]
    validated = run("validate", tmp_path / "out" / "rows")
    assert validated.returncode == 0, validated.stdout


def test_api_completions_with_a_glm_template_that_opens_thinking(tmp_path: Path) -> None:
    template = tmp_path / "glm.jinja"
    template.write_text("{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}<|assistant|><think>")
    generation = (
        "Look first.</think>Checking.<tool_call>terminal<arg_key>command</arg_key><arg_value>ls</arg_value></tool_call>"
    )
    script = [_completion(generation), _completion("Seen.</think>Nothing there.")]
    got, _ = _episode(script, api="completions", tool_format="glm47", chat_template=_load(template))
    first = next(m for m in got.messages if m.role == "assistant")
    assert first.reasoning == "Look first." and first.content == "Checking."
    assert [(c.name, c.arguments, c.source) for c in first.tool_calls] == [
        ("terminal", {"command": "ls"}, "completions:glm47")
    ]
    assert got.messages[-1].content == "Nothing there." and got.finish == "stop"


def _load(path: Path) -> Any:
    from trajforge.policy.chat_template import load_chat_template

    return load_chat_template(path)


def test_bad_tool_format_options_are_one_line_each(tmp_path: Path) -> None:
    from pydantic import ValidationError

    from trajforge.runner import RunOptions, option_errors

    base = {"out": tmp_path, "endpoint": ["http://127.0.0.1:9/v1"], "model": "m"}
    broken = tmp_path / "broken.jinja"
    broken.write_text("{% for x in %}")
    cases = [
        ({"tool_format": "kimi"}, "--tool-format: unknown tool format 'kimi'; known: hermes"),
        ({"api": "completions"}, "--api completions needs --tool-format"),
        ({"api": "completions", "tool_format": "kimi_k2"}, "needs --chat-template PATH"),
        ({"api": "completions", "tool_format": "kimi_k2", "chat_template": str(tmp_path / "nope.jinja")},
         "nope.jinja: no such file"),
        ({"chat_template": str(tmp_path)}, "no chat_template.jinja or tokenizer_config.json"),
        ({"reasoning_parser": "r1"}, "unknown reasoning parser 'r1'"),
        ({"api": "completions", "tool_format": "hermes", "chat_template": str(broken)}, "does not compile"),
    ]  # fmt: skip
    for extra, message in cases:
        try:
            RunOptions.model_validate({**base, **extra})
        except ValidationError as exc:
            lines = option_errors(exc)
        else:
            raise AssertionError(f"{extra} was accepted")
        assert len(lines) == 1 and message in lines[0], (extra, lines)
    # and through the command: exit 2, one line, no traceback
    result = run("run-task", "--prompt", "x", "--endpoint", "http://127.0.0.1:9/v1", "--model", "m", "--out", tmp_path,
                 "--api", "completions", "--tool-format", "kimi_k2")  # fmt: skip
    assert result.returncode == 2 and "needs --chat-template PATH" in result.stderr
    assert "Traceback" not in result.stderr


def test_api_completions_failures_end_the_episode_with_one_line(tmp_path: Path) -> None:
    """A template that refuses the conversation, and a chat-shaped reply on /v1/completions: model_error, no crash."""
    refusing = tmp_path / "refusing.jinja"
    refusing.write_text(
        "{% for m in messages %}{% if m.role == 'tool' %}{{ raise_exception('no tool role here') }}{% endif %}"
        "{{ m.content }}{% endfor %}"
    )
    script = [_completion('<tool_call>\n{"name": "terminal", "arguments": {"command": "true"}}\n</tool_call>')]
    got, server = _episode(script, api="completions", tool_format="hermes", chat_template=_load(refusing))
    assert got.finish == "model_error" and "no tool role here" in (got.error or "") and len(server.requests) == 1
    plain = tmp_path / "plain.jinja"
    plain.write_text("{% for m in messages %}{{ m.content }}{% endfor %}")
    chat_shaped = [reply(content="a chat reply")]
    got, _ = _episode(chat_shaped, api="completions", tool_format="hermes", chat_template=_load(plain))
    assert got.finish == "model_error" and "malformed reply" in (got.error or "") and "text" in (got.error or "")
