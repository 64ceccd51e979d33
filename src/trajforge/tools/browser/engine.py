"""One Chromium per runner worker: started on first use, restarted after a crash, closed with the worker."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from trajforge.tools.browser.siteserver import SiteServer

if TYPE_CHECKING:  # Playwright is imported where a browser is launched: runs without one never pay for it
    from playwright.async_api import Browser, Playwright

CHROMIUM = "/usr/bin/chromium"
HEADLESS_SHELL = "/usr/lib/chromium/chromium-headless-shell"
"""Debian's package chromium-headless-shell: the same Chromium's pages without the desktop browser that
new headless mode runs around them (no window, tab strip, history or address bar to keep up), and what
Playwright itself runs headless. Used when installed: on the bench it cost 61-69 ms of CPU per action
against 95-126 for /usr/bin/chromium, which meets the latency targets on 2 cores."""
LAUNCH_ARGS = (
    "--no-sandbox",  # the browser runs as the harness's user; pages are our own fixture sites
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    # Fewer processes, less memory, the same pages: the GPU thread (software, --disable-gpu) runs in the
    # browser process, and our local sites need no process per site (contexts never share renderers).
    "--in-process-gpu",
    "--disable-site-isolation-trials",
)
PLAYWRIGHT_DISABLED_FEATURES = (
    "AvoidUnnecessaryBeforeUnloadCheckSync", "DestroyProfileOnBrowserClose", "HttpsUpgrades",
    "HttpsFirstBalancedModeAutoEnable", "LensOverlay", "MediaRouter", "PaintHolding", "ThirdPartyStoragePartitioning",
    "AvoidCorsURLLoaderRestartOnRedirect", "TcpPortRandomizationWin", "OptimizationHints", "NetworkTimeServiceQuerying",
    "AimEnabled", "PreconnectToSearch", "msForceBrowserSignIn", "msEdgeUpdateLaunchServicesPreferredVersion",
)  # fmt: skip
"""The features Playwright's driver disables itself. Chromium keeps only the last `--disable-features`
on its command line, so ours must repeat them (a test checks this list against the driver's)."""
DISABLED_FEATURES = (
    # New headless Chromium keeps renderers per window for the address bar's drop-downs (WebUI pages),
    # which nobody sees here. Measured on the browser bench: they cost 48 ms of CPU per action, more than
    # the pages' own renderers (34); without them 195 -> 128 ms per action and 2.37 -> 1.75 GB RSS.
    "WebUIOmniboxPopup",
    "WebUIOmniboxAimPopup",
)
SHELL_ARGS = (
    # Pages see in the headless shell what /usr/bin/chromium shows them, so a record made on either
    # replays the same on the other: the shell's default hinting (full) rounds glyph advances, which
    # moved a button's box by 2 px; with slight hinting screenshots of the fixture sites are byte for
    # byte the same. The languages and the user agent (its version reduced, as Chromium's) likewise.
    "--font-render-hinting=slight",
    "--accept-lang=en-US,en",  # navigator.languages; the header's weights come with `request_headers`
)
USER_AGENT = " ".join((
    "Mozilla/5.0 (X11; Linux {machine}) AppleWebKit/537.36 (KHTML, like Gecko)",
    "HeadlessChrome/{major}.0.0.0 Safari/537.36",
))  # fmt: skip
_ENGINES = itertools.count(1)


class BrowserUnavailable(RuntimeError):
    """Chromium could not be started (not installed, or it died at once); the message says why."""


@dataclass
class EngineStats:
    """How the engine fared: launches (the first one included) and restarts after a crash."""

    launches: int = 0
    restarts: int = 0


@dataclass
class BrowserEngine:
    """A lazily started Chromium; `browser()` gives a connected one, starting or restarting it as needed.

    Use one per worker and `await engine.close()` when the worker ends. Contexts made from it are
    independent (cookies, storage), so episodes never share state.
    """

    executable: str = field(default_factory=lambda: default_executable())
    args: tuple[str, ...] = LAUNCH_ARGS
    stats: EngineStats = field(default_factory=EngineStats)
    sites: SiteServer = field(default_factory=SiteServer)
    """Where the browser's `*.test` hosts lead (one server for the engine's life, restarts included)."""
    marker: str = field(default_factory=lambda: f"--trajforge-engine={os.getpid()}-{next(_ENGINES)}")
    """A switch Chromium ignores, to find this engine's processes (`pids`)."""
    _playwright: Playwright | None = None
    _browser: Browser | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def browser(self) -> Browser:
        """The running browser; raises BrowserUnavailable when Chromium cannot start."""
        async with self._lock:
            if self._browser is not None and self._browser.is_connected():
                return self._browser
            if self._browser is not None:
                self.stats.restarts += 1
                await self._discard()
            return await self._launch()

    @property
    def request_headers(self) -> dict[str, str]:
        """Headers a context adds to its requests so they read as /usr/bin/chromium's (see SHELL_ARGS)."""
        return {"Accept-Language": "en-US,en;q=0.9"} if is_headless_shell(self.executable) else {}

    @property
    def running(self) -> bool:
        """Whether a browser is started and connected."""
        return self._browser is not None and self._browser.is_connected()

    async def _launch(self) -> Browser:
        if not Path(self.executable).exists():
            raise BrowserUnavailable(f"Chromium is not installed at {self.executable} (Debian package chromium)")
        try:
            await self.sites.start()
            if self._playwright is None:
                from playwright.async_api import async_playwright

                self._playwright = await async_playwright().start()
            args = [*self.args, disable_features(), self.sites.resolver_rule, self.marker]
            if is_headless_shell(self.executable):
                args += [*SHELL_ARGS, *await _shell_user_agent(self.executable)]
            self._browser = await self._playwright.chromium.launch(
                executable_path=self.executable, args=args, headless=True
            )
        except Exception as exc:
            await self._discard()
            raise BrowserUnavailable(f"Chromium did not start: {str(exc).splitlines()[0]}") from exc
        self.stats.launches += 1
        return self._browser

    async def _discard(self) -> None:
        browser, self._browser = self._browser, None
        if browser is not None:
            with contextlib.suppress(Exception):  # already dead: nothing to close
                await browser.close()

    async def close(self) -> None:
        """Stop the browser and its driver (safe to call twice)."""
        async with self._lock:
            await self._discard()
            driver, self._playwright = self._playwright, None
            if driver is not None:
                await driver.stop()
            await self.sites.stop()

    def pids(self) -> list[int]:
        """This engine's Chromium processes (the browser and its children), from /proc."""
        return browser_pids(self.marker)


class BrowserPool:
    """The browsers of a run: `size` engines, each started on first use; worker `k` always uses engine
    `k % size`, each episode a context of its own. The runner makes one per core: measured on 2 cores,
    4 episodes on 1 shared Chromium ran at 0.57 episodes/s (median action 321 ms, 2.3 GB RSS summed)
    against 0.23 (758 ms, 4.1 GB) on 4, and the 24 browser oracles took 27 s on 2 against 88 s on 16."""

    def __init__(self, size: int) -> None:
        self.engines = [BrowserEngine() for _ in range(max(1, size))]

    def for_worker(self, number: int) -> BrowserEngine:
        """The engine worker `number` uses."""
        return self.engines[number % len(self.engines)]

    async def close(self) -> None:
        """Stop every browser the run started."""
        for engine in self.engines:
            await engine.close()


def default_executable() -> str:
    """The browser to launch: `TRAJFORGE_CHROMIUM` when set, else Debian's headless shell when it is
    installed, else Debian's Chromium."""
    named = os.environ.get("TRAJFORGE_CHROMIUM")
    if named:
        return named
    return HEADLESS_SHELL if Path(HEADLESS_SHELL).exists() else CHROMIUM


def is_headless_shell(executable: str) -> bool:
    """Whether `executable` is a Chromium headless shell (Debian's, or one Playwright downloaded)."""
    return re.search(r"headless[-_]shell", Path(executable).name) is not None


async def _shell_user_agent(executable: str) -> list[str]:
    """The `--user-agent` switch that gives the shell Chromium's user agent (major version only)."""
    process = await asyncio.create_subprocess_exec(
        executable, "--version", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        out, _ = await asyncio.wait_for(process.communicate(), 10)
    except TimeoutError:  # a binary that hangs on --version: the launch that follows says what is wrong
        process.kill()
        await process.wait()
        return []
    found = re.search(rb"(\d+)\.\d+\.\d+\.\d+", out)
    if found is None:
        return []  # an unknown build: it keeps its own user agent
    return [f"--user-agent={USER_AGENT.format(machine=os.uname().machine, major=int(found.group(1)))}"]


def disable_features() -> str:
    """The one `--disable-features` switch: Playwright's list and ours (Chromium keeps only the last)."""
    return "--disable-features=" + ",".join(dict.fromkeys((*PLAYWRIGHT_DISABLED_FEATURES, *DISABLED_FEATURES)))


def browser_pids(marker: str) -> list[int]:
    """The Chromium launched with `marker` (first), and all its descendants."""
    parents: dict[int, int] = {}
    roots = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rpartition(")")[2].split()[1])
        if marker.encode() in cmdline.split(b"\0"):
            roots.append(int(entry.name))
    found = set(roots)
    grew = True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in found and pid not in found:
                found.add(pid)
                grew = True
    return sorted(roots) + sorted(found - set(roots))  # the browser process first


def rss_bytes(pids: list[int]) -> int:
    """Resident memory of these processes added up (pages they share count once per process)."""
    return _summed(pids, "status", "VmRSS:")


def pss_bytes(pids: list[int]) -> int:
    """Proportional memory of these processes added up (a shared page split among its sharers): their
    real joint footprint, which the RSS sum overstates for Chromium's many processes."""
    return _summed(pids, "smaps_rollup", "Pss:")


def _summed(pids: list[int], source: str, field: str) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/{source}").read_text().splitlines():
                if line.startswith(field):
                    total += int(line.split()[1]) * 1024
                    break
        except (OSError, ValueError):
            continue  # gone meanwhile: it counts nothing
    return total
