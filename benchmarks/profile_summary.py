"""A profile summary for the benchmarks: where the harness process's own CPU goes, per assistant turn.

`profiled(function)` runs it under cProfile; `summary(stats, turns)` groups the
functions' own time (tottime) by area (our packages, the HTTP client, asyncio,
JSON, the standard library's subprocess and file work) and lists the costliest
functions, both in milliseconds per turn. Profiling slows everything down, so
the figures are for proportions, not for the targets.
"""

from __future__ import annotations

import cProfile
import pstats
import time
from collections import defaultdict
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

AREAS = (
    ("trajforge/sandbox", "trajforge.sandbox"),
    ("trajforge/tools", "trajforge.tools"),
    ("trajforge/agent", "trajforge.agent"),
    ("trajforge/policy", "trajforge.policy (model client)"),
    ("trajforge/runner", "trajforge.runner"),
    ("trajforge/trace", "trajforge.trace"),
    ("trajforge/", "trajforge (other)"),
    ("httpx", "httpx/httpcore/h11"),
    ("httpcore", "httpx/httpcore/h11"),
    ("h11", "httpx/httpcore/h11"),
    ("openai", "openai SDK"),
    ("pydantic", "pydantic"),
    ("asyncio", "asyncio"),
    ("selectors", "asyncio"),
    ("subprocess", "subprocess/os"),
    ("json", "json"),
    ("orjson", "json"),
    ("ssl", "ssl/socket"),
    ("socket", "ssl/socket"),
)


def profiled(function: Callable[[], T]) -> tuple[T, pstats.Stats]:
    """`function()` run under cProfile timing CPU (not wall: on a busy machine a syscall's wait would count), and its
    statistics."""
    profile = cProfile.Profile(time.process_time)
    result = profile.runcall(function)
    return result, pstats.Stats(profile)


def _area(filename: str) -> str:
    for needle, area in AREAS:
        if needle in filename:
            return area
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins (syscalls, C code)"
    return "other Python"


def summary(stats: pstats.Stats, turns: int, top: int = 12) -> list[str]:
    """Lines: own CPU time per area, then the costliest functions, in ms per turn."""
    by_area: dict[str, float] = defaultdict(float)
    functions: list[tuple[float, str]] = []
    for (filename, line, name), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        by_area[_area(filename)] += tottime
        where = filename.rsplit("/site-packages/", 1)[-1].rsplit("/src/", 1)[-1]
        functions.append((tottime, f"{where}:{line}({name})"))
    total = sum(by_area.values())
    lines = [f"profile (own CPU time, ms per turn under cProfile; total {total / turns * 1000:.2f}):"]
    for area, seconds in sorted(by_area.items(), key=lambda item: -item[1]):
        lines.append(f"  {area:34} {seconds / turns * 1000:7.3f}  {seconds / total * 100:5.1f}%")
    lines.append("  costliest functions:")
    for seconds, where in sorted(functions, reverse=True)[:top]:
        lines.append(f"  {seconds / turns * 1000:7.3f}  {where[-90:]}")
    return lines
