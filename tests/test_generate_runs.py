"""`generate` as a careless user meets it: dead endpoints, two runs on one folder, bad options, SIGTERM, retries."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from trajforge.runner import GenerateSettings, RunOptions, generate
from trajforge.sandbox import SandboxConfig
from trajforge.tasks import load_tasks

from .harness import ledger_records
from .scripted_server import Reply, ScriptedServer, call, looping_script, reply
from .test_cli import SCRIPT, run

MODELS = [{"id": "m", "max_model_len": 8192}]


def _spec(tmp_path: Path, count: int, category: str = "Terminal & Coding", sub: str = "script_writing") -> Path:
    tasks = [
        {"id": f"job-{n:03d}", "category": category, "subcategory": sub, "prompt": f"Run true, job {n}.",
         "toolsets": ["terminal"], "oracle": {"steps": [{"tool": "terminal", "args": {"command": "true"}}],
                                              "answer": "done"}}
        for n in range(count)
    ]  # fmt: skip
    path = tmp_path / "tasks.yaml"
    path.write_text(json.dumps(tasks))
    return path


def _generate(spec: Path, out: Path, url: str, *more: str) -> subprocess.CompletedProcess[str]:
    return run("generate", "--tasks", spec, "--model", "m", "--endpoint", url, "--out", out, "--quiet",
               "--sandbox", "local", *more)  # fmt: skip


def test_a_dead_endpoint_fails_the_preflight_and_records_nothing(tmp_path: Path) -> None:
    spec, out = _spec(tmp_path, 3), tmp_path / "out"
    dead = _generate(spec, out, "http://127.0.0.1:9/v1")
    assert dead.returncode == 2 and "the endpoint is not ready" in dead.stderr and "Traceback" not in dead.stderr
    with ScriptedServer(looping_script(1), models=[{"id": "other"}]) as server:
        wrong = _generate(spec, out, server.url)
    assert wrong.returncode == 2 and "'m'" in wrong.stderr and "other" in wrong.stderr
    assert ledger_records(out, "m") == []


def test_an_endpoint_dying_mid_run_trips_the_breaker_and_a_rerun_retries(tmp_path: Path) -> None:
    spec, out = _spec(tmp_path, 12), tmp_path / "out"
    served = Counter[str]()

    def dies_after_three_episodes(request: dict[str, Any]) -> Reply:
        served["n"] += 1
        return looping_script(1)(request) if served["n"] <= 6 else {"status": 503}

    with ScriptedServer(dies_after_three_episodes, models=MODELS) as server:
        first = _generate(spec, out, server.url, "--concurrency", "1")
    assert first.returncode == 1, first.stderr
    assert "the model endpoints keep failing" in first.stderr
    records = ledger_records(out, "m")
    transient = [r for r in records if "transient_error" in r["flags"]]
    assert transient and all(r["finish"] == "model_error" for r in transient)
    assert len(records) < 12  # the breaker stopped new episodes
    with ScriptedServer(looping_script(1), models=MODELS) as server:
        again = _generate(spec, out, server.url)
    assert again.returncode == 0, again.stderr
    history = ledger_records(out, "m")
    assert len(history) == len(records) + 12 - (len(records) - len(transient))  # earlier records stay
    last = {r["id"]: r for r in history}
    assert len(last) == 12 and all(r["finish"] == "stop" for r in last.values())
    rows = [json.loads(x) for f in (out / "rows" / "m").glob("*.jsonl") for x in f.read_text().splitlines()]
    assert sorted(r["id"] for r in rows) == sorted(last)


def test_two_runs_on_one_folder_and_a_stale_lock(tmp_path: Path) -> None:
    spec, out = _spec(tmp_path, 30), tmp_path / "out"
    with ScriptedServer(looping_script(3, "sleep 0.2"), models=MODELS) as server:
        argv = [str(SCRIPT), "generate", "--tasks", str(spec), "--model", "m", "--endpoint", server.url,
                "--out", str(out), "--quiet", "--concurrency", "2", "--sandbox", "local"]  # fmt: skip
        holder = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not (out / ".trajforge.lock").exists() or not (out / ".trajforge.lock").read_text():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        second = run(*argv[1:])
        assert second.returncode == 2 and f"pid {holder.pid}" in second.stderr, second.stderr
        holder.kill()  # kill -9: the lock is released by the kernel, the file still names the dead holder
        holder.wait()
        third = run(*argv[1:])
    assert third.returncode == 0, third.stderr
    assert f"took over the run folder's lock left by trajforge pid {holder.pid}" in third.stderr
    ids = [r["id"] for r in ledger_records(out, "m")]
    assert len(set(ids)) == 30


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--config", "../../x"], "--config: '../../x' is not a config name"),
        (["--config", "a/b"], "--config: 'a/b' is not a config name"),
        (["--config", ".hidden"], "is not a config name"),
        (["--extra-body", "{not json"], "--extra-body: not JSON"),
        (["--extra-body", "[1]"], "--extra-body: must be a JSON object"),
        (["--sandbox", "bwarp"], "--sandbox: Input should be 'auto', 'local' or 'bwrap'"),
        (["--temperature", "-1"], "--temperature: Input should be greater than or equal to 0"),
        (["--endpoint", "localhost:8000"], "is not an http(s) URL"),
        (["--category", "file operationz"], "did you mean 'File Operations'?"),
        (["--toolsets", "terminal,nosuch"], "--toolsets:"),
    ],
)
def test_bad_options_are_one_line_and_write_nothing(tmp_path: Path, args: list[str], message: str) -> None:
    spec, out = _spec(tmp_path, 1), tmp_path / "out"
    result = run("generate", "--tasks", spec, "--policy", "oracle", "--out", out, *args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "x").exists() and not list(out.glob("runs/*/episodes-*"))


def test_out_naming_a_file_and_broken_task_files(tmp_path: Path) -> None:
    spec = _spec(tmp_path, 1)
    a_file = tmp_path / "file.txt"
    a_file.write_text("keep me")
    result = run("generate", "--tasks", spec, "--policy", "oracle", "--out", a_file)
    assert result.returncode == 2 and "is a file, not a run folder" in result.stderr
    assert a_file.read_text() == "keep me"
    broken = tmp_path / "broken.yaml"
    broken.write_text("tasks:\n- id: x\n  prompt: [unclosed\n")
    result = run("generate", "--tasks", broken, "--policy", "oracle", "--out", tmp_path / "o")
    assert result.returncode == 2 and "broken.yaml" in result.stderr and "Traceback" not in result.stderr


def test_categories_match_in_any_case_and_unrunnable_runs_fail(tmp_path: Path) -> None:
    spec = _spec(tmp_path, 2, "File Operations", "organizing")
    result = run("generate", "--tasks", spec, "--policy", "oracle", "--out", tmp_path / "o",
                 "--category", "file operations", "--sandbox", "local")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert len(ledger_records(tmp_path / "o", "oracle")) == 2
    browser = tmp_path / "browser.yaml"
    browser.write_text(json.dumps([{"id": "b", "category": "Browser Automation", "subcategory": "navigation",
                                    "prompt": "Open it.", "toolsets": ["browser"]}]))  # fmt: skip
    nothing = run("generate", "--tasks", browser, "--policy", "oracle", "--out", tmp_path / "b")
    assert nothing.returncode == 1 and "nothing ran" in nothing.stderr


def test_run_file_loses_to_typed_flags(tmp_path: Path) -> None:
    spec, out = _spec(tmp_path, 1), tmp_path / "out"
    run_file = tmp_path / "run.yaml"
    run_file.write_text(f"policy: oracle\nresume: false\ntasks: [{spec}]\nout: {out}\nsandbox: local\n")
    assert run("generate", "--run", run_file).returncode == 0
    refused = run("generate", "--run", run_file)  # resume: false from the file refuses a used folder
    assert refused.returncode == 2 and "already holds episodes" in refused.stderr
    resumed = run("generate", "--run", run_file, "--resume")  # typed, though it is the default: it wins
    assert resumed.returncode == 0, resumed.stderr
    with ScriptedServer(looping_script(1), models=MODELS) as server:
        model = run("generate", "--run", run_file, "--resume", "--policy", "model", "--model", "m",
                    "--endpoint", server.url)  # fmt: skip
    assert model.returncode == 0, model.stderr
    assert len(ledger_records(out, "m")) == 1 and len(ledger_records(out, "oracle")) == 1
    run_file.write_text("polcy: oracle\n")
    unknown = run("generate", "--run", run_file)
    assert unknown.returncode == 2 and "unknown option 'polcy'" in unknown.stderr


def test_integers_beyond_64_bits_go_through_generate(tmp_path: Path) -> None:
    spec, out = _spec(tmp_path, 1), tmp_path / "out"
    script = [
        reply(reasoning="Count.", calls=[call("terminal", '{"command": "echo 1", "n": ' + str(2**70) + "}")]),
        reply(reasoning="Done.", content="done"),
    ]
    with ScriptedServer(script, models=MODELS) as server:
        result = _generate(spec, out, server.url)
    assert result.returncode == 0, result.stderr
    (record,) = ledger_records(out, "m")
    assert record["messages"][2]["tool_calls"][0]["arguments"]["n"] == 2**70


def test_a_harness_error_is_recorded_and_the_run_goes_on(tmp_path: Path) -> None:
    tasks = load_tasks([_spec(tmp_path, 4)]).tasks
    broken = SandboxConfig(backend="local", parent=tmp_path / "no" / "such" / "folder")  # every sandbox fails
    settings = GenerateSettings(out=tmp_path / "out", config="oracle", sandbox=broken, concurrency=2)
    summary = asyncio.run(generate(tasks, settings))
    records = ledger_records(tmp_path / "out", "oracle")
    assert summary.ran == 4 and [r["finish"] for r in records] == ["error"] * 4
    assert "FileNotFoundError" in records[0]["error"] and not summary.complete
    fast = GenerateSettings(out=tmp_path / "fast", config="oracle", sandbox=broken, concurrency=1, fail_fast=True)
    summary = asyncio.run(generate(tasks, fast))
    assert summary.ran == 1 and summary.stopped is not None and "--fail-fast" in summary.stopped
    fixed = GenerateSettings(out=tmp_path / "out", config="oracle", sandbox=SandboxConfig(backend="local"))
    summary = asyncio.run(generate(tasks, fixed))  # a rerun retries the harness errors
    assert summary.retried == 4 and summary.complete
    assert {r["finish"] for r in ledger_records(tmp_path / "out", "oracle")[4:]} == {"stop"}


@pytest.mark.parametrize(("number", "name"), [(signal.SIGINT, "Ctrl-C"), (signal.SIGTERM, "SIGTERM")])
def test_a_signal_drains_the_episodes_in_flight_and_exits_130(tmp_path: Path, number: int, name: str) -> None:
    spec, out = _spec(tmp_path, 30), tmp_path / "out"
    with ScriptedServer(looping_script(3, "sleep 0.3"), latency=0.05, models=MODELS) as server:
        process = subprocess.Popen(
            [str(SCRIPT), "generate", "--tasks", str(spec), "--model", "m", "--endpoint", server.url,
             "--out", str(out), "--concurrency", "4", "--quiet"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while not any(f.stat().st_size for f in out.glob("runs/m/episodes-*.jsonl")) and time.monotonic() < deadline:
            time.sleep(0.1)
        process.send_signal(number)
        stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert f"{name}: finishing the episodes in flight" in stderr and "episodes run" in stdout
    records = ledger_records(out, "m")
    assert 0 < len(records) < 30 and all(r["finish"] == "stop" for r in records)


def test_logs_manifest_history_and_what_records_keep(tmp_path: Path) -> None:
    spec, out = _spec(tmp_path, 3), tmp_path / "out"
    spec.write_text(spec.read_text().replace('"prompt"', '"check": "test -f nope", "prompt"', 1))
    with ScriptedServer(looping_script(1), models=MODELS) as server:
        first = _generate(spec, out, server.url, "--temperature", "0.2", "--max-episodes", "1")
        second = _generate(spec, out, server.url, "--temperature", "1.0")
    assert first.returncode == 0 and second.returncode == 0, second.stderr
    assert "resuming" in second.stderr and "temperature 0.2 -> 1.0" in second.stderr
    history = [json.loads(x) for x in (out / "runs" / "m" / "manifests.jsonl").read_text().splitlines()]
    assert [h["temperature"] for h in history] == [0.2, 1.0]
    assert "api_key" not in history[0]
    log = (out / "runs" / "m" / "generate.log").read_text()
    assert "[1/1] job-000 #0: stop, check failed" in log and "[2/2]" in log
    records = {r["task"]["id"]: r for r in ledger_records(out, "m")}
    failed = records["job-000"]
    assert failed["outcome"] == "failed" and failed["wall_seconds"] > 0 and failed["started_at"].endswith("Z")
    assert failed["model"]["sampling"] == {"temperature": 0.2} and records["job-001"]["model"]["sampling"] == {
        "temperature": 1.0
    }
    assert failed["run"]["repeat"] == 0 and failed["run"]["sandbox"] == "local"


def test_status_lines_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    spec, out = _spec(tmp_path, 4), tmp_path / "out"
    with ScriptedServer(looping_script(2), latency=0.05, models=MODELS) as server:
        result = run("generate", "--tasks", spec, "--model", "m", "--endpoint", server.url, "--out", out,
                     "--log-every", "0.01", "--concurrency", "1", "--sandbox", "local")  # fmt: skip
    assert result.returncode == 0, result.stderr
    status = [line for line in result.stderr.splitlines() if " done, ETA " in line]
    assert status and status[-1][:4].isdigit() and "/4 done" in status[-1]


def test_run_task_by_id_into_a_run_folder(tmp_path: Path) -> None:
    spec, out = _spec(tmp_path, 2), tmp_path / "out"
    with ScriptedServer(looping_script(1), models=MODELS) as server:
        for _ in range(2):
            result = run("run-task", "--task", "job-001", "--tasks", spec, "--endpoint", server.url, "--model", "m",
                         "--out", out, "--max-turns", "3", "--temperature", "0.3")  # fmt: skip
            assert result.returncode == 0, result.stderr
            assert "finish: stop" in result.stdout
    records = ledger_records(out, "m")
    assert [r["run"]["repeat"] for r in records] == [0, 1] and {r["task"]["id"] for r in records} == {"job-001"}
    assert records[0]["run"]["max_turns"] == 3
    assert run("validate", out).returncode == 0


def test_run_options_settings() -> None:
    options = RunOptions(out=Path("o"), endpoint=["http://h/v1"], model="org/Kimi-K2.5", extra_body='{"a": 1}')
    settings = options.settings()
    assert settings.config == "Kimi-K2.5" and settings.model is not None and settings.model.extra_body == {"a": 1}
    assert settings.concurrency >= 8


def test_the_card_says_when_paths_are_the_hosts(tmp_path: Path) -> None:
    spec, out = _spec(tmp_path, 1), tmp_path / "out"
    assert run("generate", "--tasks", spec, "--policy", "oracle", "--out", out, "--sandbox", "local").returncode == 0
    (record,) = ledger_records(out, "oracle")
    assert any("paths are the host's" in note for note in record["run"]["notes"])
    published = run("publish", out, "--out", tmp_path / "ds", "--no-require-reasoning")
    assert published.returncode == 0, published.stderr
    card = (tmp_path / "ds" / "README.md").read_text()
    assert "Paths in the traces are the host's" in card and "- Runner: `local`" in card
