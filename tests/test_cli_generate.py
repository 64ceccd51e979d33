"""`trajforge tasks ...` and `trajforge generate` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from .harness import ledger_records
from .scripted_server import ScriptedServer, call, reply
from .test_cli import run

SPEC = """
tasks:
- id: hello-file
  category: File Operations
  subcategory: organizing
  prompt: Create hello.txt containing hello.
  check: grep -qx hello hello.txt
  oracle:
    steps:
    - reasoning: One write does it.
      tool: write_file
      args: {path: hello.txt, content: "hello\\n"}
    answer: hello.txt says hello.
"""


def test_tasks_list_and_show() -> None:
    listed = run("tasks", "list", "--json")
    assert listed.returncode == 0
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert len(rows) >= 120 and {"id", "category", "subcategory", "toolsets", "check", "oracle", "runnable"} <= set(
        rows[0]
    )
    table = run("tasks", "list", "--category", "Conversational")
    assert "conv-explain-cron" in table.stdout and "tc-fizzbuzz" not in table.stdout
    shown = run("tasks", "show", "tc-fizzbuzz-script")
    assert shown.returncode == 0 and "prompt: Write fizzbuzz.py" in shown.stdout
    assert run("tasks", "show", "no-such-task").returncode == 2


def test_generate_with_the_oracle_resumes_and_validates(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    out = tmp_path / "out"
    first = run("generate", "--tasks", spec, "--policy", "oracle", "--out", out)
    assert first.returncode == 0, first.stderr
    recorded = ledger_records(out, "oracle")
    assert len(recorded) == 1
    record = recorded[0]
    assert (record["task"]["id"], record["finish"], record["outcome"]) == ("hello-file", "stop", "passed")
    again = run("generate", "--tasks", spec, "--policy", "oracle", "--out", out)
    assert again.returncode == 0
    assert len(ledger_records(out, "oracle")) == 1  # resumed, nothing rerun
    assert run("validate", out / "rows").returncode == 0
    stats = json.loads(run("stats", out / "rows", "--json").stdout)
    assert stats["configs"][0]["config"] == "oracle" and stats["configs"][0]["samples"] == 1


def test_generate_with_a_served_model(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    script = [
        reply(reasoning="Write it.", calls=[call("write_file", {"path": "hello.txt", "content": "hello\n"})]),
        reply(reasoning="Done.", content="Created hello.txt."),
    ]
    with ScriptedServer(script, models=[{"id": "org/glm-test"}]) as server:
        result = run("generate", "--tasks", spec, "--endpoint", server.url, "--model", "org/glm-test",
                     "--out", tmp_path / "out")  # fmt: skip
    assert result.returncode == 0, result.stderr
    (record,) = ledger_records(tmp_path / "out", "glm-test")
    assert (record["outcome"], record["model"]["name"], record["config"]) == ("passed", "org/glm-test", "glm-test")
    needs = run("generate", "--tasks", spec, "--out", tmp_path / "x")
    assert needs.returncode == 2 and "--policy model needs --endpoint" in needs.stderr


def test_replay_reports_identical_and_tampered_results(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    out = tmp_path / "out"
    assert run("generate", "--tasks", spec, "--policy", "oracle", "--out", out).returncode == 0
    ledger = next((out / "runs" / "oracle").glob("episodes-*.jsonl"))
    same = run("replay", ledger, "--tasks", spec)
    assert same.returncode == 0, same.stdout
    assert "hello-file: 1/1 results identical" in same.stdout
    with ledger.open("a") as again:  # the same episode recorded twice (a retry): only its newest record replays
        again.write(ledger.read_text())
    folder = run("replay", out / "runs" / "oracle", "--tasks", spec)  # a run folder: records, not manifests
    assert folder.returncode == 0 and "skipped" not in folder.stderr, folder.stderr
    assert "1 episodes replayed, 0 with results that differ" in folder.stdout
    rows = run("replay", out / "rows" / "oracle", "--json")  # published rows replay too
    assert rows.returncode == 0 and json.loads(rows.stdout)["same"] == 1
    record = json.loads(ledger.read_text().splitlines()[0])
    tool = next(m for m in record["messages"] if m["role"] == "tool")
    tool["content"] = tool["content"].replace("hello.txt", "forged.txt")
    (tmp_path / "tampered.jsonl").write_text(json.dumps(record) + "\n")
    tampered = run("replay", tmp_path / "tampered.jsonl", "--tasks", spec)
    assert tampered.returncode == 1
    assert "0/1 results identical" in tampered.stdout and "forged.txt" in tampered.stdout
