"""One episode's browser: a fresh context (no cookies or storage shared), its page, request routing
to the episode's fixture sites, console capture, snapshot refs, and recovery from crashes."""

from __future__ import annotations

import asyncio
import contextlib
import re
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import BrowserContext, ConsoleMessage, Error, Locator, Page, Request, Route

from trajforge.tools.browser.engine import BrowserEngine, BrowserUnavailable
from trajforge.tools.browser.siteserver import SESSION_HEADER, ASGIApp
from trajforge.tools.browser.snapshot import Snapshot, clean, compact, ref_of, renumber, shown
from trajforge.tools.browser.vision import VisionConfig

ACTION_TIMEOUT_MS = 10000
NAVIGATION_TIMEOUT_MS = 15000
CONSOLE_KEEP = 200
"""Console messages and page errors kept (the newest); older ones are dropped and counted."""
VIEWPORT = {"width": 1280, "height": 800}
SETTLE_SECONDS = 2.0
"""At most this long a click or key press that started requests but no navigation (a script's fetch)
waits for them to finish before its result is reported."""


def outside(sites: Iterable[str]) -> re.Pattern[str]:
    """The URLs whose host is none of `sites`: the requests the episode's routing must look at.

    A regex rather than a function, so the driver matches it and requests for the sites never wait
    on this process. `http://shop.test.evil.example/` is outside; `http://shop.test:80/x` is not."""
    hosts = "|".join(re.escape(host) for host in sorted(sites)) or "(?!)"
    return re.compile(rf"^(?!https?://(?:{hosts})(?::\d+)?(?:[/?#]|$))")


@dataclass(frozen=True)
class Mark:
    """The page's state just before an action (`BrowserSession.mark`), to tell what the action started."""

    generation: int
    requests: int
    busy: frozenset[Request]


class BrowserProblem(Exception):
    """A failure the model reads as the result (no such ref, a blocked host, a crashed page)."""


@dataclass
class BrowserStats:
    """What the episode's browser did, for the record."""

    actions: int = 0
    blocked_requests: int = 0
    page_crashes: int = 0
    browser_restarts: int = 0

    def as_dict(self) -> dict[str, int]:
        """The figures as the record's `run.browser`."""
        return dict(self.__dict__)


@dataclass
class BrowserSession:
    """The browser of one episode; made cheaply, its context opens on the first browser call.

    `sites` maps a host name (`shop.test`) to the ASGI app that serves it; `allowed_hosts` may be
    reached for real; every other request is blocked and reported. Calls are serialised by a lock.
    """

    engine: BrowserEngine
    sites: Mapping[str, ASGIApp] = field(default_factory=dict)
    allowed_hosts: Sequence[str] = ()
    vision: VisionConfig | None = None
    owns_engine: bool = False
    """Close the engine with the session (an episode run without a worker's engine)."""
    stats: BrowserStats = field(default_factory=BrowserStats)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    console: deque[dict[str, str]] = field(default_factory=lambda: deque(maxlen=CONSOLE_KEEP))
    errors: deque[dict[str, str]] = field(default_factory=lambda: deque(maxlen=CONSOLE_KEEP))
    screenshots: int = 0
    _context: BrowserContext | None = None
    _page: Page | None = None
    _crashed: bool = False
    _generation: int = 0
    """Main-frame navigations so far: refs belong to the generation their snapshot saw."""
    _refs: dict[str, str] = field(default_factory=dict)
    """Playwright's ref -> the page's own (`e12`), for the page of `_refs_generation`."""
    _refs_generation: int = -1
    _blocked: list[str] = field(default_factory=list)
    _navigating: bool = False
    """A main-frame navigation was requested and has not committed yet."""
    _requests: int = 0
    """Requests the page has made (a count, to tell whether an action started any)."""
    _busy: set[Request] = field(default_factory=set)
    """The page's requests still in flight."""
    _watched: weakref.WeakSet[Page] = field(default_factory=weakref.WeakSet)
    """Pages our listeners are on: a page watched twice would report each console message twice."""
    _waiters: list[asyncio.Future[None]] = field(default_factory=list)
    """Waits for the page's next navigation or request event (`_until`)."""
    _launch: int = 0
    """The engine launch the context was opened on (another session may restart a shared engine)."""
    _tenant: str | None = None
    """The key the engine's site server knows this episode's sites by."""

    async def page(self) -> Page:
        """The episode's page, opening the context on first use. A crashed browser or page is
        replaced first and reported as a BrowserProblem (the call that meets it fails, the next works)."""
        problem = await self.recover()
        if problem:
            raise BrowserProblem(problem)
        if self._context is None:
            await self._open()
        assert self._page is not None
        return self._page

    async def recover(self, error: BaseException | None = None) -> str | None:
        """When the browser or the page died, replace it and say what happened; None when all is well.

        After a Playwright `error` saying a target closed, the driver may not have noticed a killed
        browser yet: it is given a moment to, so the crash is told as one rather than as that error."""
        if error is not None and self.engine.running and "closed" in str(error).lower():
            for _ in range(50):
                if not self.engine.running:
                    break
                await asyncio.sleep(0.05)
        if self._context is not None and (not self.engine.running or self._launch != self.engine.stats.launches):
            await self._forget_context()
            self.stats.browser_restarts += 1
            try:
                await self._open()
            except BrowserUnavailable as exc:
                return f"the browser crashed and could not be restarted: {exc}"
            return "the browser crashed and was restarted; the page is lost: navigate again"
        if self._context is not None and (self._crashed or self._page is None or self._page.is_closed()):
            self.stats.page_crashes += 1
            self._crashed = False
            self._page = await self._new_page()
            return "the page crashed; a new blank page was opened: navigate again"
        return None

    def note_blocked(self, url: str) -> None:
        """Count and report a request refused before it was made (a navigation to another host)."""
        self._blocked.append(url)
        self.stats.blocked_requests += 1

    async def _open(self) -> None:
        browser = await self.engine.browser()
        self._launch = self.engine.stats.launches
        if self._tenant is None:
            self._tenant = self.engine.sites.add(self.sites, self.allowed_hosts)
        # The sites' requests go straight to the site server, told the episode by a header the browser
        # adds itself: routing them too cost a driver round trip per request (pages, images, form posts).
        self._context = await browser.new_context(
            viewport=VIEWPORT,  # type: ignore[arg-type]
            service_workers="block",
            accept_downloads=False,
            extra_http_headers={**self.engine.request_headers, SESSION_HEADER: self._tenant},
        )
        self._context.set_default_timeout(ACTION_TIMEOUT_MS)
        self._context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
        await self._context.route(outside(self.sites), self._route)
        self._context.on("page", self._popup)
        self._page = await self._new_page()

    async def _new_page(self) -> Page:
        assert self._context is not None
        return self._watch(await self._context.new_page())

    def _watch(self, page: Page) -> Page:
        # Once per page: a page we open ourselves also fires the context's "page" event (`_popup`).
        if page in self._watched:
            return page
        self._watched.add(page)
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.errors.append({"message": str(error), "source": "exception"}))
        page.on("crash", lambda _page: setattr(self, "_crashed", True))
        page.on("framenavigated", lambda frame: self._navigated(page, frame))
        page.on("request", lambda request: self._requested(page, request))
        page.on("requestfinished", lambda request: self._finished(page, request, failed=False))
        page.on("requestfailed", lambda request: self._finished(page, request, failed=True))
        self._busy = set()
        self._refs, self._refs_generation = {}, -1
        return page

    def _popup(self, page: Page) -> None:
        """A link or script opened a new tab: the episode goes on in it, as a person would."""
        if page != self._page:
            self._page = self._watch(page)
            self._generation += 1
            self._wake()

    async def reset_page(self) -> None:
        """Replace a page that no longer answers (a script that never ends) with a blank one."""
        old = self._page
        self._page = await self._new_page()
        if old is not None:
            with contextlib.suppress(Error, TimeoutError):
                await asyncio.wait_for(old.close(), 5)

    def _navigated(self, page: Page, frame: Any) -> None:
        if frame == page.main_frame:
            self._generation += 1
            self._navigating = False
            self._wake()

    def _requested(self, page: Page, request: Request) -> None:
        if page != self._page:
            return
        self._requests += 1
        self._busy.add(request)
        if request.is_navigation_request() and request.frame == page.main_frame:
            self._navigating = True
        self._wake()

    def _finished(self, page: Page, request: Request, failed: bool) -> None:
        if page != self._page:
            return
        self._busy.discard(request)
        if failed and request.is_navigation_request() and request.frame == page.main_frame:
            self._navigating = False  # it will not commit
        self._wake()

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def _until(self, done: Callable[[], bool], seconds: float) -> bool:
        """Wait, woken by the page's navigation and request events, until `done()` or `seconds` pass."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not done():
            left = deadline - loop.time()
            if left <= 0:
                return False
            waiter = loop.create_future()
            self._waiters.append(waiter)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter, left)
        return True

    def _on_console(self, message: ConsoleMessage) -> None:
        entry = {"type": message.type, "text": message.text, "source": "console"}
        where = message.location.get("url") if message.location else None
        if where:
            entry["url"] = str(where)
        self.console.append(entry)

    async def _route(self, route: Route, request: Request) -> None:
        """Every request not for the episode's sites: a listed host is let through (without the
        episode header), any other is blocked and counted."""
        host = (urlsplit(request.url).hostname or "").lower()
        try:
            if host in self.allowed_hosts:
                headers = await request.all_headers()
                await route.continue_(headers={k: v for k, v in headers.items() if k.lower() != SESSION_HEADER})
            else:
                self.note_blocked(request.url)
                await route.abort("blockedbyclient")
        except Error:  # the page went away while answering: nothing is waiting for this request
            pass

    def take_blocked(self) -> list[str]:
        """Requests blocked since the last call (each reported once)."""
        blocked, self._blocked = self._blocked, []
        return blocked

    def blocked_host_message(self, url: str) -> str | None:
        """Why `url` may not be opened, or None when it may."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return f"only http(s) URLs can be opened, not {parts.scheme or 'a relative URL'}: {url}"
        host = (parts.hostname or "").lower()
        if host in self.sites or host in self.allowed_hosts:
            return None
        reachable = ", ".join(sorted([*self.sites, *self.allowed_hosts])) or "none"
        return f"blocked: {host or url} is not one of this task's sites (reachable hosts: {reachable})"

    async def snapshot(self, full: bool) -> Snapshot:
        """The page's accessibility tree (compact unless `full`), its refs now the valid ones."""
        page = await self.page()
        if self._navigating:  # a late navigation of an earlier click: snapshot the page it leads to
            await self._arrive(self._generation)
        raw = clean(await page.aria_snapshot(mode="ai", timeout=ACTION_TIMEOUT_MS))
        if self._refs_generation != self._generation:
            self._refs, self._refs_generation = {}, self._generation
        text = renumber(raw, self._refs)
        return shown(text if full else compact(text))

    async def element(self, argument: str) -> Locator:
        """The element a ref argument names in the latest snapshot of the current page."""
        ref = ref_of(argument)
        if ref is None:
            raise BrowserProblem(f"{argument!r} is not a ref: pass one from the snapshot, like @e5")
        page = await self.page()
        if self._refs_generation < 0:
            raise BrowserProblem("no snapshot of this page yet: call browser_snapshot to get refs")
        if self._refs_generation != self._generation:
            raise BrowserProblem(f"@{ref} belongs to an earlier page; the page changed since: take a new snapshot")
        theirs = next((pw for pw, ours in self._refs.items() if ours == ref), None)
        if theirs is None:
            raise BrowserProblem(f"no element @{ref} in the snapshots of this page")
        locator = page.locator(f"aria-ref={theirs}")
        if await locator.count() == 0:
            raise BrowserProblem(f"@{ref} is no longer on the page: take a new snapshot")
        return locator

    def mark(self) -> Mark:
        """The page's state before an action, for `settle`."""
        return Mark(self._generation, self._requests, frozenset(self._busy))

    async def settle(self, before: Mark) -> None:
        """After a click or a key press (`before` marked just ahead of it): when it navigated, wait
        until the new page's DOM is there; when it only started requests (a script's fetch), wait for
        them (at most SETTLE_SECONDS) or for the navigation they lead to; when it started nothing,
        return at once. Playwright's action itself waits for a navigation the action requested to
        commit, so a link or a form's submit has begun by now. Never fails: a slow page is left as it is."""
        if self._generation == before.generation and not self._navigating and self._requests != before.requests:
            await self._until(
                lambda: self._navigating or self._generation != before.generation or self._busy <= before.busy,
                SETTLE_SECONDS,
            )
        await self._arrive(before.generation)

    async def drained(self) -> None:
        """Wait (at most SETTLE_SECONDS) until the page has no request in flight, then make one round trip
        through it, so the console messages and errors its loads produced by then have arrived (an image's
        404 is logged after the page's DOM is ready, which is when a click or navigation returns)."""
        await self._until(lambda: not self._busy and not self._navigating, SETTLE_SECONDS)
        page = self._page
        if page is not None and not page.is_closed():
            with contextlib.suppress(Error, TimeoutError):
                await asyncio.wait_for(page.evaluate("0"), SETTLE_SECONDS)

    async def _arrive(self, before: int) -> None:
        """Wait for a requested navigation to commit (the old document counts as loaded until then),
        then for the new document's DOM."""
        page = await self.page()
        await self._until(lambda: not self._navigating or self._generation != before, NAVIGATION_TIMEOUT_MS / 1000)
        if self._generation != before:
            with contextlib.suppress(Error):
                await page.wait_for_load_state("domcontentloaded", timeout=NAVIGATION_TIMEOUT_MS)

    @property
    def generation(self) -> int:
        """Main-frame navigations so far."""
        return self._generation

    async def where(self) -> dict[str, str]:
        """The page's URL and title (empty when there is no page or it is gone)."""
        page = self._page
        if page is None or page.is_closed() or not self.engine.running:
            return {"url": "", "title": ""}
        try:
            title = await asyncio.wait_for(page.title(), 5)
            if not title:  # read between a navigation's commit and the new document's <title>: wait for it once
                with contextlib.suppress(Error):
                    await page.wait_for_load_state("load", timeout=2000)
                title = await asyncio.wait_for(page.title(), 5)
            return {"url": page.url, "title": title}
        except (Error, TimeoutError):
            return {"url": page.url, "title": ""}

    async def _forget_context(self) -> None:
        context, self._context, self._page = self._context, None, None
        self._refs, self._refs_generation = {}, -1
        if context is not None:
            with contextlib.suppress(Error):
                await context.close()

    async def close(self) -> None:
        """Close the episode's context (cookies, storage and pages go with it), and an engine of its own."""
        async with self.lock:
            await self._forget_context()
            if self._tenant is not None:
                self.engine.sites.remove(self._tenant)
                self._tenant = None
            if self.owns_engine:
                await self.engine.close()
