"""End-to-end episodes: the scripted server drives the agent; tools run for real in sandboxes."""

from __future__ import annotations

import json

import pytest

from trajforge.dataset import RowChecker
from trajforge.trace import Finish, Flag, from_record, parse, render, to_record

from .harness import BACKENDS, run
from .scripted_server import call, reply


def _results(episode: object) -> list[dict[str, object]]:
    return [json.loads(m.content) for m in episode.messages if m.role == "tool"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("backend", BACKENDS)
def test_multi_turn_episode_with_real_tools(backend: str) -> None:
    script = [
        reply(
            reasoning="Make a folder and go there.",
            calls=[call("terminal", {"command": "mkdir -p app && cd app && export GREETING=hello"})],
        ),
        reply(reasoning="State persists?", calls=[call("terminal", {"command": "pwd; echo $GREETING"})]),
        reply(
            reasoning="Write and run a script, in parallel with reading nothing.",
            calls=[
                call("write_file", {"path": "app/hello.py", "content": "print('hi from python')\nprint(2 + 3)\n"}),
                call("execute_code", {"code": "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"}),
            ],
        ),
        reply(reasoning="Run it.", calls=[call("terminal", {"command": "python3 hello.py"})]),
        reply(content="Done: the script prints hi and 5.", reasoning="All good."),
    ]
    episode, server = run(script, backend)
    assert episode.finish is Finish.STOP, episode.error
    results = _results(episode)
    assert results[0] == {"output": "", "exit_code": 0}
    assert results[1]["output"].endswith("/workspace/app\nhello\n")  # type: ignore[union-attr]
    assert results[2] == {"path": "app/hello.py", "bytes": 37}
    assert results[3] == {"stdout": "out\n", "stderr": "err\n", "exit_code": 3}
    assert results[4] == {"output": "hi from python\n5\n", "exit_code": 0}
    assert len(episode.timing.model_calls) == 5 and len(episode.timing.tool_calls) == 5
    assert all(u.prompt_tokens is not None for u in episode.usage)
    # The record round-trips, and its row passes validate.
    assert to_record(from_record(to_record(episode))) == to_record(episode)
    row = render(episode)
    assert RowChecker().check(row, "e2e", 1) == []
    assert [m.role for m in parse(row).messages] == [m.role for m in episode.messages]
    # Earlier reasoning was sent back in both fields by default.
    sent = server.requests[-1]["messages"]
    assert sent[2]["reasoning"] == sent[2]["reasoning_content"] == "Make a folder and go there."
    assert server.requests[0]["tool_choice"] == "auto" and len(server.requests[0]["tools"]) == 6


def test_parallel_calls_keep_call_order() -> None:
    calls = [call("terminal", {"command": f"sleep 0.{3 - k}; echo {k}"}, call_id=f"c{k}") for k in range(3)]
    episode, _ = run([reply(reasoning="three at once", calls=calls), reply(content="ok")])
    tool_messages = [m for m in episode.messages if m.role == "tool"]
    assert [m.tool_call_id for m in tool_messages] == ["c0", "c1", "c2"]
    assert [json.loads(m.content or "")["output"] for m in tool_messages] == ["0\n", "1\n", "2\n"]
    finished = [t.tool_call_id for t in sorted(episode.timing.tool_calls, key=lambda t: t.seconds)]
    assert finished == ["c2", "c1", "c0"]  # they ran concurrently: the shortest sleep ended first


@pytest.mark.parametrize("where", ["reasoning", "reasoning_content", "inline"])
def test_reasoning_is_read_from_each_place(where: str) -> None:
    episode, _ = run([reply(content="The answer is 4.", reasoning="2 + 2 = 4", reasoning_field=where)])
    answer = episode.messages[-1]
    assert (answer.reasoning, answer.content) == ("2 + 2 = 4", "The answer is 4.")


def test_invalid_argument_json_is_kept_and_answered() -> None:
    script = [
        reply(calls=[call("terminal", '{"command": "echo hi"', call_id="bad")]),
        reply(calls=[call("terminal", {"command": "echo recovered"})]),
        reply(content="ok"),
    ]
    episode, server = run(script)
    assert episode.finish is Finish.STOP
    bad = episode.messages[2].tool_calls[0]
    assert (bad.arguments, bad.raw_arguments) == ({}, '{"command": "echo hi"')
    assert "not a valid JSON object" in json.loads(episode.messages[3].content or "")["error"]
    assert Flag.INVALID_TOOL_ARGUMENTS in episode.flags
    assert server.requests[1]["messages"][2]["tool_calls"][0]["function"]["arguments"] == '{"command": "echo hi"'


def test_transient_errors_are_retried() -> None:
    script = [{"status": 429}, {"status": 500}, {"status": 503}, reply(content="finally")]
    episode, server = run(script)
    assert (episode.finish, episode.messages[-1].content) == (Finish.STOP, "finally")
    assert len(server.requests) == 4


def test_a_hanging_request_times_out_and_is_retried() -> None:
    episode, server = run([{"hang": 3}, reply(content="after the hang")], timeout=0.5)
    assert (episode.finish, episode.messages[-1].content) == (Finish.STOP, "after the hang")
    assert len(server.requests) == 2


def test_context_length_ends_the_episode() -> None:
    script = [reply(calls=[call("terminal", {"command": "true"})]), {"context_length": True}]
    episode, _ = run(script)
    assert episode.finish is Finish.CONTEXT_LENGTH
    assert "maximum context length" in (episode.error or "")
    assert RowChecker().check(render(episode), "e2e", 1) == []  # a cut-off episode still renders


def test_other_model_errors_end_with_model_error() -> None:
    episode, server = run([{"status": 404, "error": "model 'x' does not exist"}])
    assert episode.finish is Finish.MODEL_ERROR
    assert "404" in (episode.error or "") and "does not exist" in (episode.error or "")
    assert len(server.requests) == 1  # not retried


def test_max_turns_and_wall_clock() -> None:
    from trajforge.agent import EpisodeLimits

    loop = [reply(calls=[call("terminal", {"command": "true"})]) for _ in range(5)]
    episode, _ = run(loop, limits=EpisodeLimits(max_turns=3))
    assert episode.finish is Finish.MAX_TURNS
    assert [m.role for m in episode.messages][-2:] == ["assistant", "tool"]
    slow = [reply(calls=[call("terminal", {"command": "sleep 30"}, call_id="slow")])]
    episode, _ = run(slow, limits=EpisodeLimits(max_turns=3, wall_seconds=1.5))
    assert episode.finish is Finish.TIMEOUT
    assert json.loads(episode.messages[-1].content or "") == {"error": "the episode ended before this call finished"}
    assert RowChecker().check(render(episode), "e2e", 1) == []


def test_api_key_never_reaches_tools_or_records(monkeypatch: pytest.MonkeyPatch) -> None:
    key = "sk-test-0123456789abcdefghijklmnop"
    monkeypatch.setenv("OPENAI_API_KEY", key)
    monkeypatch.setenv("TRAJFORGE_TEST_SECRET", "host-secret-value-123456")
    script = [
        reply(calls=[call("terminal", {"command": "env; echo sk-live-abcdefghijklmnopqrstuvwx"})]),
        reply(content="done"),
    ]
    episode, server = run(script, api_key=key)
    record = json.dumps(to_record(episode))
    assert key not in record and "host-secret-value" not in record and "OPENAI_API_KEY" not in record
    assert "[REDACTED]" in record and Flag.SECRETS_REDACTED in episode.flags
    assert server.headers[0]["authorization"] == f"Bearer {key}"  # the key is used, only for the endpoint
