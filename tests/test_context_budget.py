"""The context window during an episode: no call that would overflow it, compaction by the model, long results cut."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from trajforge.agent.context import ContextSettings, ContextWindow
from trajforge.dataset import RowChecker
from trajforge.trace import Finish, Flag, from_record, render, to_record
from trajforge.trace.compaction import SUMMARY_PREFIX
from trajforge.trace.tokens import load_counter

from .harness import ledger_records, run
from .scripted_server import ScriptedServer, call, reply

SCRIPT = Path(sys.executable).parent / "trajforge"


def _window(**settings: Any) -> ContextWindow:
    return ContextWindow(ContextSettings(**settings), load_counter(None))


def _printing(chars: int, turns: int) -> list[dict[str, Any]]:
    """`turns` assistant turns, each printing `chars` characters, then an answer."""
    command = f"python3 -c \"print('y' * {chars})\""
    steps = [reply(reasoning=f"Step {n}.", calls=[call("terminal", {"command": command})]) for n in range(turns)]
    return [*steps, reply(content="All printed.")]


def test_a_call_that_would_overflow_is_not_sent() -> None:
    window = _window(max_context_tokens=2500, reserve_tokens=200)
    episode, server = run(_printing(6000, 3), context=window)
    assert episode.finish is Finish.CONTEXT_LENGTH, episode.error
    assert "prompt tokens + 200 for the reply; the model's context is 2500 tokens" in (episode.error or "")
    answered = [m for m in episode.messages if m.role == "assistant"]
    assert len(server.requests) == len(answered) < 4  # every request sent was answered: none wasted
    assert window.record()["counted_by"] == ["estimate", "server"] and window.peak_prompt_tokens > 2300


def test_compression_by_the_model_lets_the_episode_go_on() -> None:
    script = _printing(2400, 6)

    def respond(request: dict[str, Any]) -> dict[str, Any]:
        if not request.get("tools"):  # the summary request: no tools offered
            return reply(content="Printed long lines of y in steps 0 to 2; each exited 0.")
        return script.pop(0)

    window = _window(max_context_tokens=2600, on_context="compress", keep_last=2, summary_max_tokens=200)
    with ScriptedServer(respond) as server:
        import asyncio

        from .harness import episode_against

        episode = asyncio.run(episode_against(server, context=window))
        requests = list(server.requests)
    assert episode.finish is Finish.STOP, episode.error
    assert episode.compactions and all(c.source == "model" for c in episode.compactions)
    summaries = [r for r in requests if not r.get("tools")]
    assert len(summaries) == len(episode.compactions) and "Summarise" in summaries[0]["messages"][1]["content"]
    last = episode.compactions[-1]
    sent = requests[-1]["messages"]
    assert sent[last.start]["role"] == "user" and sent[last.start]["content"] == last.summary
    assert last.summary.startswith(SUMMARY_PREFIX) and "steps 0 to 2" in last.summary
    assert len(sent) < len(episode.messages)  # the model saw fewer messages than the record keeps
    assert to_record(from_record(to_record(episode))) == to_record(episode)
    row = render(episode)
    assert RowChecker().check(row, "compressed", 1) == []
    values = [t["value"] for t in row["conversations"]]
    assert last.summary in values and values[-1].endswith("All printed.")


def test_long_tool_results_are_cut_with_a_marker() -> None:
    window = _window(max_tool_result_tokens=100)
    episode, _ = run(_printing(3000, 1), context=window)
    result = next(m.content for m in episode.messages if m.role == "tool")
    assert result is not None and "[... cut: the result had about" in result and len(result) < 700
    assert Flag.TRUNCATED_TOOL_OUTPUT in episode.flags and episode.finish is Finish.STOP


def test_the_servers_context_window_is_the_default(tmp_path: Path) -> None:
    models = [{"id": "scripted", "max_model_len": 1200}]
    with ScriptedServer(_printing(8000, 2), models=models) as server:
        result = subprocess.run(
            [str(SCRIPT), "run-task", "--prompt", "Print things.", "--endpoint", server.url, "--model", "scripted",
             "--out", str(tmp_path / "out"), "--sandbox", "local"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        sent = len(server.requests)
    assert "Traceback" not in result.stderr, result.stderr
    [record] = ledger_records(tmp_path / "out", "scripted")
    assert record["finish"] == "context_length", record["error"]
    assert record["run"]["context"]["max_context_tokens"] == 1200
    assert sent == len([m for m in record["messages"] if m["role"] == "assistant"]) < 3
    assert json.loads(json.dumps(record))["compactions"] == []
