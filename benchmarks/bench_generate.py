"""Generation throughput: episodes of ~20 terminal turns against the scripted server, at several concurrencies.

Run: .venv/bin/python benchmarks/bench_generate.py [--episodes 500] [--turns 20]
         [--latency 0,0.2] [--concurrency 1,16,64,256] [--sandbox local]

The scripted OpenAI-compatible server runs in its own process with the given
latency per call. For each latency and concurrency it prints episodes/s,
turns/s, the harness process's CPU per turn (its own work: the loop, the HTTP
client, spawning commands), peak RSS and how busy the machine was. With 200 ms latency the target is throughput growing
nearly linearly with concurrency up to 64 (>= 40x the concurrency-1 rate) and
under 2 GB RSS at 256. Concurrency 1 runs a tenth of the episodes.

`--startup N` instead times `trajforge generate` over a finished folder (the
built-in File Operations tasks, oracle, local sandbox): the whole process's
wall and CPU seconds, best and median of N runs (target: under 0.5 s wall).
The package's bytecode is compiled first, as pip does when it installs a wheel
(and `make install` does for this editable checkout): where PYTHONDONTWRITEBYTECODE
is set, as on this machine, every run would otherwise compile each module anew.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import trajforge  # noqa: E402
from benchmarks.bench_dataset import _peak_rss_mb  # noqa: E402
from benchmarks.bench_harness import _machine_ticks  # noqa: E402
from benchmarks.profile_summary import profiled  # noqa: E402
from benchmarks.profile_summary import summary as summary_lines  # noqa: E402
from trajforge.policy import ModelConfig  # noqa: E402
from trajforge.runner import GenerateSettings, generate  # noqa: E402
from trajforge.sandbox import SandboxConfig  # noqa: E402
from trajforge.tasks import load_tasks  # noqa: E402


def _one_run(url: str, episodes: int, concurrency: int, sandbox: str, profile: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "tasks.yaml"
        spec.write_text(json.dumps([
            {"id": f"bench-{n:04d}", "category": "Terminal & Coding", "subcategory": "script_writing",
             "prompt": "Run true, many times.", "toolsets": ["terminal"], "limits": {"max_turns": 100}}
            for n in range(episodes)
        ]))  # fmt: skip
        tasks = load_tasks([spec]).tasks
        model = ModelConfig(url, "bench", timeout=120)
        settings = GenerateSettings(out=Path(tmp) / "out", config="bench", sandbox=SandboxConfig(backend=sandbox),
                                    model=model, concurrency=concurrency)  # fmt: skip
        started, cpu, ticks = time.perf_counter(), time.process_time(), _machine_ticks()
        stats = None
        if profile:
            summary, stats = profiled(lambda: asyncio.run(generate(tasks, settings)))
        else:
            summary = asyncio.run(generate(tasks, settings))
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        busy, total = (a - b for a, b in zip(_machine_ticks(), ticks, strict=True))
        records = [json.loads(line) for f in (Path(tmp) / "out" / "runs" / "bench").glob("episodes-*.jsonl")
                   for line in f.read_text().splitlines()]  # fmt: skip
    turns = sum(len(r["timing"]["model_calls"]) for r in records)
    assert summary.ran == episodes and all(r["finish"] == "stop" for r in records)
    return {
        "profile": summary_lines(stats, turns) if stats is not None else [],
        "episodes_per_s": episodes / wall,
        "turns_per_s": turns / wall,
        "cpu_ms_per_turn": cpu / turns * 1000,
        "rss_mb": _peak_rss_mb(),
        "busy": busy / total * 100 if total else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--episodes", type=int, default=500)
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--latency", default="0,0.2")
    parser.add_argument("--concurrency", default="1,16,64,256")
    parser.add_argument("--sandbox", default="local")
    parser.add_argument("--profile", action="store_true", help="after the figures, one profiled run per latency")
    parser.add_argument("--startup", type=int, metavar="N", help="time generate's start-up over a finished folder")
    parser.add_argument("--step", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.startup:
        _startup(args.startup)
        return
    if args.step:  # one measurement in a fresh process, so RSS is its own
        url, episodes, concurrency, sandbox, profile = args.step
        print(json.dumps(_one_run(url, int(episodes), int(concurrency), sandbox, profile == "1")))
        return
    print(f"{'latency s':>9} {'in flight':>9} {'episodes':>8} {'episodes/s':>10} {'turns/s':>8} "
          f"{'harness CPU ms/turn':>19} {'peak RSS MB':>11} {'machine busy':>12}")  # fmt: skip
    for latency in args.latency.split(","):
        server = subprocess.Popen([sys.executable, "-m", "tests.scripted_server", str(args.turns), latency],
                                  cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        try:
            concurrencies = [int(c) for c in args.concurrency.split(",")]
            for concurrency in concurrencies:
                count = args.episodes if concurrency > 1 else max(1, args.episodes // 10)
                figures = _step(url, count, concurrency, args.sandbox, profile=False)
                print(f"{latency:>9} {concurrency:9} {count:8} {figures['episodes_per_s']:10.2f} "
                      f"{figures['turns_per_s']:8.1f} {figures['cpu_ms_per_turn']:19.2f} {figures['rss_mb']:11.0f} "
                      f"{figures['busy']:11.0f}%", flush=True)  # fmt: skip
            if args.profile:
                profiled_run = _step(url, args.episodes, concurrencies[0], args.sandbox, profile=True)
                print("\n".join(profiled_run["profile"]), flush=True)
        finally:
            server.stdin.close()  # type: ignore[union-attr]
            server.wait(timeout=10)


def _startup(runs: int) -> None:
    """Print generate's start-up over a finished folder: wall and CPU seconds of the process, best and median."""
    compileall.compile_dir(Path(trajforge.__file__).parent, quiet=1)  # an installed program's start-up
    with tempfile.TemporaryDirectory() as tmp:
        argv = [sys.executable, "-m", "trajforge", "generate", "--policy", "oracle", "--tasks", "builtin",
                "--category", "File Operations", "--out", f"{tmp}/out", "--sandbox", "local", "--quiet"]  # fmt: skip
        subprocess.run(argv, capture_output=True, check=False)  # runs the episodes once: the folder is finished
        walls, cpus = [], []
        for _ in range(runs):
            before, started = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
            done = subprocess.run(argv, capture_output=True, text=True, check=False)
            walls.append(time.perf_counter() - started)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
            assert "already recorded" in done.stderr, done.stderr[-2000:]
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    print(f"generate over a finished folder, {runs} runs: wall best {min(walls):.3f} s, median {wall:.3f} s; "
          f"CPU best {min(cpus):.3f} s, median {cpu:.3f} s")  # fmt: skip


def _step(url: str, count: int, concurrency: int, sandbox: str, profile: bool) -> dict[str, Any]:
    """One measurement in a fresh process (its RSS and imports its own)."""
    step = [sys.executable, __file__, "--step", url, str(count), str(concurrency), sandbox, "1" if profile else "0"]
    result: dict[str, Any] = json.loads(subprocess.run(step, capture_output=True, text=True, check=True).stdout)
    return result


if __name__ == "__main__":
    main()
