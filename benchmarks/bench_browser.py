"""Browser tools: 4 concurrent episodes of 15 browser actions each on the fixture sites.

Run: .venv/bin/python benchmarks/bench_browser.py [--episodes 4] [--concurrency 4] [--rounds 3]
     .venv/bin/python benchmarks/bench_browser.py --memory 200   (RSS over 200 episodes)

Each episode is a fresh context on its worker's browser (one per core, as the runner makes them) and
plays the same 15 actions through the toolbox, as a model's calls would arrive: navigations,
snapshots, typing, clicks that submit forms, scrolling, going back, images and the console. The
browsers are started before timing (the first launch is reported on its own). Prints the median
and p95 latency of one action, episodes per second, and the peak resident memory of this process
plus every Chromium process of the run, sampled every 100 ms (PSS every 400 ms), and apart the
peak with Playwright's driver (a node process) added. Wall latency grows with the machine's load, so
it also prints the CPU seconds one action costs (this process, the driver and the browsers together):
that figure moves less with load than latency, so before/after comparisons on a busy machine use it.
Beneath it the same CPU by kind of process (Chromium's browser process, its renderers, its network
service, the driver, this process), each process read every 100 ms: what a process did between its
last reading and its exit is shown as "exited between samples". The browsers are Debian's
chromium-headless-shell when installed, else /usr/bin/chromium (the first line names it).
Targets on this machine: median action under 150 ms, p95 under 500 ms, peak RSS under 2.5 GB.

`--memory N` runs N episodes (4 at a time) and prints the RSS every tenth of the way: it should
level off, not grow with the episodes (one context per episode, closed at its end).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser_kit import browsing  # noqa: E402
from trajforge.tools.browser import BrowserEngine, BrowserPool, pss_bytes, rss_bytes  # noqa: E402

ACTIONS: list[tuple[str, dict[str, Any]]] = [
    ("browser_navigate", {"url": "http://shop.test/"}),
    ("browser_type", {"ref": "@e14", "text": "tea"}),
    ("browser_press", {"key": "Enter"}),
    ("browser_snapshot", {"full": True}),
    ("browser_navigate", {"url": "http://shop.test/product/mug"}),
    ("browser_click", {"ref": "@e19"}),
    ("browser_snapshot", {}),
    ("browser_back", {}),
    ("browser_navigate", {"url": "http://forms.test/contact"}),
    ("browser_type", {"ref": "@e12", "text": "Ana Lima"}),
    ("browser_type", {"ref": "@e14", "text": "ana@example.com"}),
    ("browser_type", {"ref": "@e16", "text": "Hello"}),
    ("browser_click", {"ref": "@e17"}),
    ("browser_scroll", {"direction": "down"}),
    ("browser_console", {}),
]


async def _episode(engine: BrowserEngine, latencies: list[float], by_tool: dict[str, list[float]]) -> None:
    async with browsing(("shop", "forms"), engine=engine) as b:
        for name, arguments in ACTIONS:
            started = time.perf_counter()
            result = await b.call(name, **arguments)
            latencies.append(time.perf_counter() - started)
            by_tool.setdefault(name, []).append(latencies[-1])
            if not result.get("success"):
                raise RuntimeError(f"{name} {arguments} failed: {result.get('error')}")


class _PeakMemory:
    """Samples this process and the pool's browsers every 100 ms; `peak` is the largest sum seen."""

    def __init__(self, pool: BrowserPool) -> None:
        self.pool = pool
        self.peak = 0
        self.peak_pss = 0
        self.peak_with_driver = 0
        self.driver: list[int] = []
        self.cpu = CpuByProcess()
        self._task: asyncio.Task[None] | None = None

    def pids(self) -> list[int]:
        return [os.getpid(), *(pid for engine in self.pool.engines for pid in engine.pids())]

    def driver_pids(self) -> list[int]:
        """Playwright's driver: this process's children that are not a browser."""
        browsers = set(self.pids())
        return [pid for pid in _children(os.getpid()) if pid not in browsers]

    def now(self) -> int:
        return rss_bytes(self.pids())

    def _measure(self, tick: int, pids: list[int]) -> list[int]:
        # Off the event loop, and cheap: the /proc scan for the browsers' processes once a second,
        # PSS (smaps_rollup walks every mapping) every 400 ms; otherwise sampling slows the tools it times.
        if tick % 10 == 0:
            pids, self.driver = self.pids(), self.driver_pids()
        self.cpu.sample(pids + self.driver)
        self.peak = max(self.peak, rss_bytes(pids))
        self.peak_with_driver = max(self.peak_with_driver, rss_bytes(pids + self.driver))
        if tick % 4 == 0:
            self.peak_pss = max(self.peak_pss, pss_bytes(pids))
        return pids

    async def _sample(self) -> None:
        pids: list[int] = []
        for tick in itertools.count():
            pids = await asyncio.to_thread(self._measure, tick, pids)
            await asyncio.sleep(0.1)

    def __enter__(self) -> _PeakMemory:
        self._task = asyncio.get_running_loop().create_task(self._sample())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task:
            self._task.cancel()


async def _round(
    pool: BrowserPool, episodes: int, concurrency: int, by_tool: dict[str, list[float]] | None = None
) -> tuple[list[float], float]:
    latencies: list[float] = []
    by_tool = {} if by_tool is None else by_tool
    gate = asyncio.Semaphore(concurrency)

    async def one(number: int) -> None:
        async with gate:
            await _episode(pool.for_worker(number), latencies, by_tool)

    started = time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(episodes)))
    return latencies, time.perf_counter() - started


async def _latency(episodes: int, concurrency: int, rounds: int, browsers: int) -> None:
    pool = BrowserPool(browsers or min(concurrency, len(os.sched_getaffinity(0))))  # per core, as the runner
    try:
        started = time.perf_counter()
        await asyncio.gather(*(engine.browser() for engine in pool.engines))
        print(f"browsers: {len(pool.engines)} x {pool.engines[0].executable}, "
              f"started in {time.perf_counter() - started:.2f} s")  # fmt: skip
        await _round(pool, 1, 1)  # warm: first contexts, first pages
        all_latencies: list[float] = []
        by_tool: dict[str, list[float]] = {}
        rates = []
        with _PeakMemory(pool) as memory:
            cpu_before = cpu_seconds(memory.pids() + memory.driver_pids())
            await asyncio.to_thread(memory.cpu.start, memory.pids() + memory.driver_pids())
            for _ in range(rounds):
                latencies, seconds = await _round(pool, episodes, concurrency, by_tool)
                all_latencies += latencies
                rates.append(episodes / seconds)
            cpu = cpu_seconds(memory.pids() + memory.driver_pids()) - cpu_before
            by_kind = await asyncio.to_thread(memory.cpu.stop, memory.pids() + memory.driver_pids())
        ordered = sorted(all_latencies)
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
        print(f"{episodes} episodes x {len(ACTIONS)} actions, {concurrency} at a time, {rounds} rounds")
        print(f"action latency: median {statistics.median(ordered) * 1000:.0f} ms (target < 150), "
              f"p95 {p95 * 1000:.0f} ms (target < 500), max {ordered[-1] * 1000:.0f} ms")  # fmt: skip
        print("median by tool: " + ", ".join(f"{k} {statistics.median(v) * 1000:.0f}" for k, v in by_tool.items()))
        print(f"episodes/s: {statistics.median(rates):.2f} (median of rounds)")
        load = os.getloadavg()[0]
        print(f"CPU per action (this process, driver, browsers; exited renderers included): "
              f"{cpu / len(ordered) * 1000:.0f} ms; load average {load:.1f} on {os.cpu_count()} cores")  # fmt: skip
        print("  of which, per action (ms): " + ", ".join(
            f"{kind} {seconds / len(ordered) * 1000:.1f}" for kind, seconds in _with_rest(by_kind, cpu)))  # fmt: skip
        print(f"peak RSS (this process + browsers, summed): {memory.peak / 2**30:.2f} GB (target < 2.5); "
              f"peak PSS (shared pages counted once): {memory.peak_pss / 2**30:.2f} GB; "
              f"with Playwright's driver: {memory.peak_with_driver / 2**30:.2f} GB RSS")  # fmt: skip
    finally:
        await pool.close()


async def _memory(total: int, concurrency: int) -> None:
    pool = BrowserPool(min(concurrency, len(os.sched_getaffinity(0))))
    try:
        memory = _PeakMemory(pool)
        done = 0
        step = max(concurrency, total // 10)
        while done < total:
            batch = min(step, total - done)
            await _round(pool, batch, concurrency)
            done += batch
            pss = pss_bytes(memory.pids()) / 2**20
            print(f"after {done:4d} episodes: RSS {memory.now() / 2**20:7.0f} MB, PSS {pss:6.0f} MB, "
                  f"browser launches {sum(e.stats.launches for e in pool.engines)}")  # fmt: skip
    finally:
        await pool.close()


def _children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rpartition(")")[2].split()[1]) == parent:
                found.append(int(entry.name))
        except (OSError, ValueError):
            continue  # gone meanwhile
    return found


class CpuByProcess:
    """CPU time per kind of process (our process, the driver, Chromium's browser process, its renderers...)
    between `start` and `stop`. Each process is read at every sample; one that exits between two samples
    keeps what its last sample saw, so the kinds add up to a little less than `cpu_seconds` (the rest is
    shown as such). A process first seen after `start` counts from its birth."""

    def __init__(self) -> None:
        self._first: dict[int, float] = {}
        self._last: dict[int, tuple[str, float]] = {}
        self._started = 0.0
        self._running = False

    def start(self, pids: list[int]) -> None:
        self._first, self._last = {}, {}
        self._started = _boot_seconds()
        self._running = True
        self.sample(pids)
        self._first = {pid: cpu for pid, (_, cpu) in self._last.items()}

    def sample(self, pids: list[int]) -> None:
        if not self._running:
            return
        for pid in pids:
            read = _own_cpu(pid)
            if read is None:
                continue
            born, cpu = read
            if pid not in self._first and born >= self._started:
                self._first[pid] = 0.0
            kind = self._last[pid][0] if pid in self._last else _kind(pid)
            self._last[pid] = (kind, cpu)

    def stop(self, pids: list[int]) -> dict[str, float]:
        self.sample(pids)
        self._running = False
        totals: dict[str, float] = {}
        for pid, (kind, cpu) in self._last.items():
            if pid in self._first:  # a process alive before start that we met only later counts nothing
                totals[kind] = totals.get(kind, 0.0) + cpu - self._first[pid]
        return dict(sorted(totals.items(), key=lambda item: -item[1]))


def _with_rest(by_kind: dict[str, float], total: float) -> list[tuple[str, float]]:
    rest = total - sum(by_kind.values())
    return [*by_kind.items(), ("exited between samples", rest)]


def _own_cpu(pid: int) -> tuple[float, float] | None:
    """(start time since boot, utime + stime) of one process, in seconds; None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[19]) / tick, (int(fields[11]) + int(fields[12])) / tick


def _boot_seconds() -> float:
    return float(Path("/proc/uptime").read_text().split()[0])


def _kind(pid: int) -> str:
    """What a process of the run is: ours, the driver, or which Chromium process."""
    if pid == os.getpid():
        return "python"
    try:
        # Chromium's child processes rewrite their title: their arguments come joined by spaces
        args = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").split()
    except OSError:
        return "gone"
    if b"run-driver" in args:
        return "driver"
    kind = next((a.partition(b"=")[2].decode() for a in args if a.startswith(b"--type=")), "browser")
    if kind == "renderer" and b"--top-chrome-webui" in args:
        return "renderer (browser UI)"
    sub = next((a.partition(b"=")[2].decode() for a in args if a.startswith(b"--utility-sub-type=")), "")
    return f"{kind} {sub.split('.')[0]}" if sub else kind


def cpu_seconds(pids: list[int]) -> float:
    """CPU time these processes used, with that of their waited-for children (exited renderers)."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        ticks += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--browsers", type=int, default=0, help="browsers the workers share (0: one per core)")
    parser.add_argument("--memory", type=int, default=0, metavar="N", help="RSS over N episodes instead")
    args = parser.parse_args()
    if args.memory:
        asyncio.run(_memory(args.memory, args.concurrency))
    else:
        asyncio.run(_latency(args.episodes, args.concurrency, args.rounds, args.browsers))


if __name__ == "__main__":
    main()
