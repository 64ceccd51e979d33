"""`trajforge run-task` end to end: a scripted model, real tools, files a user can validate."""

from __future__ import annotations

import json
from pathlib import Path

from .harness import ledger_records
from .scripted_server import ScriptedServer, call, reply
from .test_cli import run


def test_run_task_writes_a_record_and_a_valid_row(tmp_path: Path) -> None:
    script = [
        reply(reasoning="Create the script.", calls=[call("write_file", {"path": "hi.sh", "content": "echo hi\n"})]),
        reply(reasoning="Run it.", calls=[call("terminal", {"command": "bash hi.sh"})]),
        reply(reasoning="It printed hi.", content="The script prints hi."),
    ]
    with ScriptedServer(script, models=[{"id": "org/kimi-test"}]) as server:
        result = run(
            "run-task", "--prompt", "Write hi.sh that prints hi and run it.", "--endpoint", server.url,
            "--model", "org/kimi-test", "--out", tmp_path, "--temperature", "0.6",
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("backend: ") and lines[1] == "finish: stop"
    (record,) = ledger_records(tmp_path, "kimi-test")
    assert record["config"] == "kimi-test" and record["finish"] == "stop"
    assert record["model"] == {"name": "org/kimi-test", "endpoint": server.url, "sampling": {"temperature": 0.6}}
    assert json.loads(record["messages"][5]["content"]) == {"output": "hi\n", "exit_code": 0}
    assert record["task"]["category"] == "Terminal & Coding" and record["task"]["subcategory"] == "script_writing"
    validated = run("validate", tmp_path / "rows")
    assert validated.returncode == 0, validated.stdout


def test_run_task_refuses_bad_options(tmp_path: Path) -> None:
    bad = run("run-task", "--prompt", "x", "--endpoint", "http://127.0.0.1:9/v1", "--model", "m", "--out", tmp_path,
              "--category", "Cooking")  # fmt: skip
    assert bad.returncode == 2 and "unknown category 'Cooking'" in bad.stderr
    bad = run("run-task", "--prompt", "x", "--endpoint", "http://127.0.0.1:9/v1", "--model", "m", "--out", tmp_path,
              "--toolsets", "terminal,teleport")  # fmt: skip
    assert bad.returncode == 2 and "teleport" in bad.stderr and "Traceback" not in bad.stderr
    assert ledger_records(tmp_path, "m") == []
