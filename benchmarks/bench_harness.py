"""Harness overhead: 100 episodes of 20 turns, each turn one `terminal` call running `true`.

Run: .venv/bin/python benchmarks/bench_harness.py [--episodes 100] [--turns 20] [--concurrency 16]

The scripted OpenAI-compatible server runs in its own process with zero
latency. For each backend it prints episodes/s, the harness overhead per turn
(episode wall time minus the time spent in model calls and tool calls, divided
by the turns) and the sandbox create + teardown time, at 16 episodes in flight
and at 1 (a tenth of the episodes): with 16 in flight on two cores every part
waits for a core, so the uncontended row is the harness's own cost. It also
prints the CPU time of the harness process per turn (its own work, including
the HTTP client) and how busy the whole machine was during the run. Targets: overhead under
5 ms per turn; create + teardown under 20 ms (local) and 50 ms (bwrap).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.profile_summary import profiled, summary  # noqa: E402
from trajforge.agent import EpisodeLimits, run_episode  # noqa: E402
from trajforge.policy import ModelConfig, OpenAIPolicy  # noqa: E402
from trajforge.sandbox import SandboxConfig, SandboxFactory  # noqa: E402
from trajforge.tools import ToolContext, build_toolbox  # noqa: E402
from trajforge.trace import Episode, Finish, TaskRef  # noqa: E402

TASK = TaskRef("bench", "Terminal & Coding", "script_writing", "Run true, many times.")


async def _episode(factory: SandboxFactory, policy: OpenAIPolicy, turns: int) -> tuple[Episode, float]:
    started = time.perf_counter()
    box = await factory.create()
    try:
        toolbox = build_toolbox(["terminal"], ToolContext(box))
        episode = await run_episode(TASK, policy, toolbox, box, EpisodeLimits(max_turns=turns + 1))
    finally:
        await box.close()
    return episode, time.perf_counter() - started


async def _episodes(url: str, backend: str, count: int, turns: int, concurrency: int) -> dict[str, float]:
    factory = SandboxFactory(SandboxConfig(backend=backend))  # type: ignore[arg-type]
    await factory.backend()  # probe once, outside the timing
    policy = OpenAIPolicy(ModelConfig(url, "scripted", timeout=60))
    gate = asyncio.Semaphore(concurrency)

    async def one() -> tuple[Episode, float]:
        async with gate:
            return await _episode(factory, policy, turns)

    started, cpu_started, machine_started = time.perf_counter(), time.process_time(), _machine_ticks()
    results = await asyncio.gather(*(one() for _ in range(count)))
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    busy, total = (after - before for after, before in zip(_machine_ticks(), machine_started, strict=True))
    await policy.close()
    assert all(e.finish is Finish.STOP for e, _ in results), {e.finish for e, _ in results}
    overheads, model_s, tool_s = [], [], []
    for episode, seconds in results:
        model = sum(episode.timing.model_calls)
        tools = sum(t.seconds for t in episode.timing.tool_calls)
        overheads.append((seconds - model - tools) / len(episode.timing.model_calls))
        model_s.append(model / len(episode.timing.model_calls))
        tool_s.append(tools / max(1, len(episode.timing.tool_calls)))
    turns = sum(len(e.timing.model_calls) for e, _ in results)
    return {
        "episodes_per_s": count / wall,
        "harness_cpu_ms": cpu / turns * 1000,
        "machine_busy": busy / total * 100 if total else 0.0,
        "overhead_ms": statistics.mean(overheads) * 1000,
        "model_ms": statistics.mean(model_s) * 1000,
        "tool_ms": statistics.mean(tool_s) * 1000,
    }


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine so far, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


async def _lifecycle(backend: str, count: int = 50) -> float:
    factory = SandboxFactory(SandboxConfig(backend=backend))  # type: ignore[arg-type]
    await factory.backend()
    started = time.perf_counter()
    for _ in range(count):
        box = await factory.create()
        await box.close()
    return (time.perf_counter() - started) / count * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--concurrency", default="16,1", help="comma-separated; 1 shows the overhead uncontended")
    parser.add_argument("--profile", action="store_true", help="after each backend's rows, one profiled run")
    args = parser.parse_args()
    backends = ["local", *(["bwrap"] if shutil.which("bwrap") else [])]
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.scripted_server", str(args.turns)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        print(f"{args.episodes} episodes x {args.turns} turns, scripted server {url}")
        header = f"{'backend':8} {'in flight':>9} {'episodes/s':>10} {'overhead ms/turn':>17} {'model ms/call':>14} "
        print(
            header + f"{'tool ms/call':>13} {'harness CPU ms/turn':>20} {'machine busy':>13} {'create+teardown ms':>19}"
        )
        for backend in backends:
            lifecycle = asyncio.run(_lifecycle(backend))
            for concurrency in (int(c) for c in args.concurrency.split(",")):
                count = args.episodes if concurrency > 1 else max(1, args.episodes // 10)
                figures = asyncio.run(_episodes(url, backend, count, args.turns, concurrency))
                print(
                    f"{backend:8} {concurrency:9} {figures['episodes_per_s']:10.2f} {figures['overhead_ms']:17.2f} "
                    f"{figures['model_ms']:14.2f} {figures['tool_ms']:13.2f} {figures['harness_cpu_ms']:20.2f} "
                    f"{figures['machine_busy']:12.0f}% {lifecycle:19.2f}"
                )
            if args.profile:
                first = int(args.concurrency.split(",")[0])
                run = functools.partial(_episodes, url, backend, args.episodes, args.turns, first)
                _, stats = profiled(lambda run=run: asyncio.run(run()))
                print("\n".join(summary(stats, args.episodes * (args.turns + 1))), flush=True)
    finally:
        server.stdin.close()  # type: ignore[union-attr]
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
