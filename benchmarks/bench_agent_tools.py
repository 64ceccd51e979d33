"""Per-call overhead of the agent tools on a home holding 1,000 earlier sessions.

Run: .venv/bin/python benchmarks/bench_agent_tools.py [--sessions 1000] [--calls 200] [--backend local]

Each call goes through `Toolbox.call` (argument checks, the handler, redaction), as the agent loop
makes it, on a real sandbox whose home holds `--sessions` sessions of 12 messages each, 12 skills,
a full memory store and a 20-item todo list. Prints the median and 95th percentile per tool and
call kind. Target: median under 5 ms for memory, todo, the skill tools and session_search.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from trajforge.sandbox import Sandbox, SandboxConfig, SandboxFactory  # noqa: E402
from trajforge.tools import Redactor, ToolContext, build_toolbox  # noqa: E402
from trajforge.tools.agent.home import AgentHome  # noqa: E402
from trajforge.tools.agent.sessions_db import StoredMessage  # noqa: E402
from trajforge.trace import ToolCall  # noqa: E402

CLOCK = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
TOPICS = ["postgres upgrade", "flaky CI", "csv export", "login crash", "docker image", "release notes",
          "cache invalidation", "rate limiting", "billing migration", "search index"]  # fmt: skip
SKILLS = 12
SKILL = "---\nname: {name}\ndescription: Procedure {n}\n---\n\n1. Step one.\n2. Step two.\n"


async def fill(home: AgentHome, sessions: int) -> None:
    """A home as a long-lived agent would have it."""
    store = await home.sessions()
    for n in range(sessions):
        topic = TOPICS[n % len(TOPICS)]
        # The topic comes up in two of the twelve messages, as in a real conversation.
        texts = [
            f"about the {topic}: step {k}" if k in (0, 5) else f"message {k} of {n}, ref {n * 7 + k}" for k in range(12)
        ]
        messages = [StoredMessage("user" if k % 2 == 0 else "assistant", text) for k, text in enumerate(texts)]
        store.add_session(
            f"s-{n}", f"Session {n}: {topic}", f"2025-{n % 12 + 1:02d}-{n % 28 + 1:02d}T10:00:00Z", messages
        )


async def measure(box: Sandbox, sessions: int, calls: int) -> dict[str, list[float]]:
    """Seconds per call, by label."""
    home = AgentHome(box, CLOCK)
    await fill(home, sessions)
    context = ToolContext(box, Redactor(), services={AgentHome: home})
    toolbox = build_toolbox(["memory", "todo", "skills", "sessions", "cronjob"], context)
    counter = iter(range(10**9))

    async def call(tool_name: str, /, **arguments: Any) -> None:
        result = await toolbox.call(ToolCall(f"c{next(counter)}", tool_name, arguments))
        if result.is_error and "already exists" not in result.content:
            raise SystemExit(f"{tool_name} {arguments}: {result.content[:300]}")

    for n in range(SKILLS):
        await call("skill_manage", action="create", name=f"skill-{n}", content=SKILL.format(name=f"skill-{n}", n=n))
    for n in range(12):
        await call("memory", action="add", content=f"Fact number {n}: the service {n} listens on port {8000 + n}.")
    await call("todo", todos=[{"id": str(n), "content": f"item {n}"} for n in range(20)])

    workload: dict[str, Callable[[int], Any]] = {
        "memory add+remove": lambda n: _pair(call("memory", action="add", content=f"temporary {n}"),
                                              call("memory", action="remove", old_text=f"temporary {n}")),
        "memory replace": lambda n: call("memory", action="replace", old_text="Fact number 3:",
                                         content=f"Fact number 3: moved to port {9000 + n}."),
        "todo read": lambda n: call("todo"),
        "todo merge": lambda n: call("todo", merge=True, todos=[{"id": str(n % 20), "status": "in_progress"}]),
        "skills_list": lambda n: call("skills_list"),
        "skill_view": lambda n: call("skill_view", name=f"skill-{n % SKILLS}"),
        "skill_manage patch": lambda n: call("skill_manage", action="patch", name="skill-0", old_string="Step one",
                                             new_string="Step one"),
        "session_search query": lambda n: call("session_search", query=TOPICS[n % len(TOPICS)]),
        "session_search read": lambda n: call("session_search", session_id=f"s-{n * 37 % sessions}"),
        "session_search browse": lambda n: call("session_search"),
        "cronjob create+remove": lambda n: _pair(call("cronjob", action="create", schedule="0 9 * * *", prompt="x"),
                                                 call("cronjob", action="remove", job_id=f"job-{n + 1}")),
    }  # fmt: skip
    timings: dict[str, list[float]] = {}
    for label, make in workload.items():
        seconds = []
        for n in range(calls):
            started = time.perf_counter()
            await make(n)
            seconds.append(time.perf_counter() - started)
        pairs = label.endswith(("add+remove", "create+remove"))
        timings[label] = [s / 2 for s in seconds] if pairs else seconds
    home.close()
    return timings


async def _pair(first: Any, second: Any) -> None:
    await first
    await second


async def main_async(backend: str, sessions: int, calls: int) -> None:
    box = await SandboxFactory(SandboxConfig(backend=backend)).create()  # type: ignore[arg-type]
    try:
        started = time.perf_counter()
        timings = await measure(box, sessions, calls)
        print(f"backend {box.info.backend}, {sessions} sessions, {calls} calls each "
              f"(set-up and run {time.perf_counter() - started:.1f} s)")  # fmt: skip
        print(f"{'call':28} {'median ms':>10} {'p95 ms':>8}")
        for label, seconds in timings.items():
            ordered = sorted(seconds)
            p95 = ordered[int(len(ordered) * 0.95) - 1]
            print(f"{label:28} {statistics.median(seconds) * 1000:10.3f} {p95 * 1000:8.3f}")
    finally:
        await box.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--backend", default="local", choices=["local", "bwrap"])
    args = parser.parse_args()
    asyncio.run(main_async(args.backend, args.sessions, args.calls))


if __name__ == "__main__":
    main()
