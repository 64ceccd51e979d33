"""Generation survives crashes, Ctrl-C, faulty endpoints and an endpoint going down, losing nothing."""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from trajforge.policy import ModelConfig
from trajforge.runner import GenerateSettings, generate
from trajforge.sandbox import SandboxConfig
from trajforge.tasks import load_tasks

from .harness import ledger_records
from .scripted_server import Reply, ScriptedServer, call, looping_script, reply

SCRIPT = Path(sys.executable).parent / "trajforge"


def _spec(tmp_path: Path, count: int) -> Path:
    tasks = [
        {"id": f"job-{n:03d}", "category": "Terminal & Coding", "subcategory": "script_writing",
         "prompt": f"Run true, job {n}.", "toolsets": ["terminal"]}
        for n in range(count)
    ]  # fmt: skip
    path = tmp_path / "tasks.json.yaml"
    path.write_text(json.dumps(tasks))
    return path


def test_kill_9_and_resume_five_times(tmp_path: Path) -> None:
    spec, out = _spec(tmp_path, 20), tmp_path / "out"
    argv = [str(SCRIPT), "generate", "--tasks", str(spec), "--repeat", "5", "--model", "m", "--out", str(out),
            "--concurrency", "8", "--quiet"]  # fmt: skip
    rng = random.Random(7)
    with ScriptedServer(looping_script(4), latency=0.02, models=[{"id": "m"}]) as server:
        argv += ["--endpoint", server.url]
        for _ in range(5):
            process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(1.0, 3.0))
            process.kill()  # SIGKILL: no cleanup, possibly in the middle of writing a line
            process.wait()
        finished = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    records = ledger_records(out, "m")
    ids = [r["id"] for r in records]
    assert len(ids) == 100 and len(set(ids)) == 100
    assert Counter(r["task"]["id"] for r in records) == {f"job-{n:03d}": 5 for n in range(20)}
    assert all(r["finish"] == "stop" for r in records)
    rows = [json.loads(line) for f in (out / "rows" / "m").glob("*.jsonl") for line in f.read_text().splitlines()]
    assert sorted(r["id"] for r in rows) == sorted(ids)  # rows are derived from the records: none lost


def _faulty(seed: int) -> Any:
    rng, lock = random.Random(seed), threading.Lock()
    healthy = looping_script(3)

    def respond(request: dict[str, Any]) -> Reply:
        with lock:
            roll = rng.random()
        if roll < 0.10:
            return {"status": 500}
        if roll < 0.15:
            return {"hang": 1.5}
        if roll < 0.20:
            return reply(calls=[call("terminal", '{"command": "true"')])  # invalid argument JSON
        if roll < 0.22:
            return {"context_length": True}
        return healthy(request)

    return respond


def _settings(out: Path, *urls: str, **kw: Any) -> GenerateSettings:
    model = ModelConfig(urls[0], "m", more_endpoints=urls[1:], timeout=0.5, backoff_base=0.01, backoff_max=0.05,
                        max_retries=8, rest_seconds=kw.pop("rest_seconds", 30.0))  # fmt: skip
    return GenerateSettings(out=out, config="m", sandbox=SandboxConfig(backend="local"), model=model, **kw)


def test_a_faulty_endpoint_loses_nothing(tmp_path: Path) -> None:
    tasks = load_tasks([_spec(tmp_path, 40)]).tasks
    with ScriptedServer(_faulty(11)) as server:
        summary = asyncio.run(generate(tasks, _settings(tmp_path / "out", server.url, concurrency=8)))
    records = ledger_records(tmp_path / "out", "m")
    assert summary.ran == len(records) == 40 and len({r["id"] for r in records}) == 40
    finishes = Counter(r["finish"] for r in records)
    assert set(finishes) <= {"stop", "context_length", "model_error"} and finishes["stop"] >= 25
    for record in records:
        if record["finish"] == "context_length":
            assert "maximum context length" in record["error"]
        raw = [c for m in record["messages"] for c in m.get("tool_calls") or [] if "raw_arguments" in c]
        if raw:
            assert "invalid_tool_arguments" in record["flags"]


def test_the_run_completes_when_one_of_two_endpoints_goes_down(tmp_path: Path) -> None:
    tasks = load_tasks([_spec(tmp_path, 30)]).tasks
    with (
        ScriptedServer(looping_script(3), latency=0.02) as good,
        ScriptedServer(looping_script(3), latency=0.02) as bad,
    ):
        settings = _settings(tmp_path / "out", bad.url, good.url, concurrency=6, rest_seconds=300.0)

        async def run_and_break() -> Any:
            job = asyncio.create_task(generate(tasks, settings))
            await asyncio.sleep(0.8)
            await asyncio.to_thread(bad.__exit__)  # the endpoint goes away mid-run
            return await job

        summary = asyncio.run(run_and_break())
        served_by_bad = len(bad.requests)
    records = ledger_records(tmp_path / "out", "m")
    assert summary.ran == len(records) == 30 and all(r["finish"] == "stop" for r in records)
    assert served_by_bad > 0 and len(good.requests) > 0
