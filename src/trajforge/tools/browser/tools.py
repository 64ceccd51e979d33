"""The browser tools, named and shaped as hermes-agent's `tools/browser_tool.py`: every result is a
JSON object with `success`, where the page is (`url`, `title`), and on failure an `error` the model
can act on. Calls of one turn are barriers (run alone, in call order)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, Literal
from urllib.parse import urljoin

from playwright.async_api import Error
from playwright.async_api import TimeoutError as PlaywrightTimeout

from trajforge.sandbox import SandboxError
from trajforge.tools.browser.annotate import annotated_screenshot
from trajforge.tools.browser.engine import BrowserUnavailable
from trajforge.tools.browser.session import NAVIGATION_TIMEOUT_MS, BrowserProblem, BrowserSession
from trajforge.tools.browser.snapshot import SNAPSHOT_LIMIT, Snapshot
from trajforge.tools.browser.vision import VisionFailed, ask_vision
from trajforge.tools.ordering import CallOrder
from trajforge.tools.registry import ToolContext, tool
from trajforge.trace import Flag
from trajforge.trace.turns import dumps

SCROLL_PIXELS = 500
EVALUATE_SECONDS = 10.0
BLOCKED_SHOWN = 20
_IMAGES_JS = """() => [...document.images].map(img => ({
    src: img.src, alt: img.alt || '', width: img.naturalWidth, height: img.naturalHeight
})).filter(img => img.src && !img.src.startsWith('data:'))"""
NO_VISION = (
    "browser_vision needs a vision-capable model and none is set for this run (the episode's own endpoint, or "
    "--vision-endpoint/--vision-model): the screenshot was saved but not analysed"
)
Action = Callable[[BrowserSession], Awaitable[dict[str, Any]]]


async def _run(ctx: ToolContext, action: Action) -> str:
    """Run one browser action under the session's lock; every browser failure becomes a result."""
    session = ctx.service(BrowserSession)
    async with session.lock:
        session.stats.actions += 1
        try:
            payload: dict[str, Any] = {"success": True, **await action(session)}
        except (BrowserProblem, BrowserUnavailable) as exc:
            payload = {"success": False, "error": str(exc)}
        except PlaywrightTimeout as exc:
            payload = {"success": False, "error": f"timed out: {_first_line(exc)}"}
        except Error as exc:
            payload = {"success": False, "error": await session.recover(exc) or _first_line(exc)}
        if "url" not in payload or "title" not in payload:  # navigate has read them already
            for key, value in (await session.where()).items():
                payload.setdefault(key, value)
        blocked = session.take_blocked()
        if blocked:
            payload["blocked_requests"] = blocked[:BLOCKED_SHOWN]
            payload["blocked_count"] = len(blocked)
    return dumps(payload)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _snapshot_fields(ctx: ToolContext, snap: Snapshot) -> dict[str, Any]:
    fields: dict[str, Any] = {"snapshot": snap.text, "element_count": len(snap.refs)}
    if snap.cut_lines:
        fields["truncated"] = True
        ctx.flags.add(Flag.TRUNCATED_TOOL_OUTPUT)
    return fields


@tool("browser", order=CallOrder.BARRIER)
async def browser_navigate(ctx: ToolContext, url: str) -> str:
    """Navigate to a URL in the browser and return the page's title and a compact snapshot.

    Loads the page and returns its accessibility tree (interactive elements and headings, each with
    a ref like @e5 for browser_click and browser_type). Only the task's sites can be reached.

    Args:
        url: The URL to navigate to (e.g. 'http://shop.test/'); a path is taken relative to the current page.
    """

    async def go(session: BrowserSession) -> dict[str, Any]:
        page = await session.page()
        target = url.strip()
        if "://" not in target and page.url.startswith("http"):
            target = urljoin(page.url, target)
        problem = session.blocked_host_message(target)
        if problem:
            session.note_blocked(target)
            raise BrowserProblem(problem)
        try:
            response = await page.goto(target, wait_until="load")
        except PlaywrightTimeout as exc:
            raise BrowserProblem(
                f"navigation to {target} did not finish within {NAVIGATION_TIMEOUT_MS // 1000} s"
            ) from exc
        except Error as exc:
            crashed = await session.recover(exc)
            raise BrowserProblem(crashed or f"navigation to {target} failed: {_first_line(exc)}") from exc
        fields: dict[str, Any] = {}
        if response is not None and response.status >= 400:
            fields["status"] = response.status
        snapshot = _snapshot_fields(ctx, await session.snapshot(full=False))
        return {**await session.where(), **fields, **snapshot}

    return await _run(ctx, go)


@tool("browser", order=CallOrder.BARRIER)
async def browser_snapshot(ctx: ToolContext, full: bool = False) -> str:
    """Get a text snapshot of the current page's accessibility tree, with ref IDs (like @e5) to click and type into.

    full=false (default) shows interactive elements and headings; full=true shows the whole page
    content (text, tables, lists). Snapshots over 8000 characters are cut, and the result says so.

    Args:
        full: If true, return the complete page content; if false, a compact view of interactive elements.
    """

    async def take(session: BrowserSession) -> dict[str, Any]:
        return _snapshot_fields(ctx, await session.snapshot(full=full))

    return await _run(ctx, take)


@tool("browser", order=CallOrder.BARRIER)
async def browser_click(ctx: ToolContext, ref: str) -> str:
    """Click an element identified by its ref from the latest snapshot (e.g. '@e5').

    Refs stay valid until the page changes (a navigation); then take a new snapshot.

    Args:
        ref: The element reference from the snapshot (e.g. '@e5').
    """

    async def click(session: BrowserSession) -> dict[str, Any]:
        element = await session.element(ref)
        before = session.mark()
        await element.click()
        await session.settle(before)
        return {"clicked": "@" + ref.strip().lstrip("@")}

    return await _run(ctx, click)


@tool("browser", order=CallOrder.BARRIER)
async def browser_type(ctx: ToolContext, ref: str, text: str) -> str:
    """Type text into an input field identified by its ref; the field is cleared first.

    For a select (combobox) the text picks the option with that label or value; for a file input it
    is the path of a workspace file to upload; checkboxes and radio buttons are clicked, not typed.

    Args:
        ref: The element reference from the snapshot (e.g. '@e3').
        text: The text to type into the field.
    """

    async def type_(session: BrowserSession) -> dict[str, Any]:
        element = await session.element(ref)
        tag, kind = await element.evaluate("e => [e.tagName.toLowerCase(), (e.type || '').toLowerCase()]")
        if tag == "select":
            await _select(element, text)
        elif kind == "file":
            await element.set_input_files(_upload(ctx, text))
        elif kind in ("checkbox", "radio"):
            raise BrowserProblem(f"@{ref.lstrip('@')} is a {kind}: use browser_click to tick it")
        else:
            await element.fill(text)
        return {"typed": text, "element": "@" + ref.strip().lstrip("@")}

    return await _run(ctx, type_)


def _upload(ctx: ToolContext, path: str) -> str:
    """The host path of the workspace file `path` names, for a file input."""
    try:
        found = ctx.sandbox.resolve(path)
    except SandboxError as exc:
        raise BrowserProblem(f"only files in the workspace can be uploaded: {exc}") from exc
    if not found.is_file():
        raise BrowserProblem(f"no file {path!r} in the workspace to upload")
    return str(found)


async def _select(element: Any, text: str) -> None:
    """Pick the option whose label, else whose value, is `text`."""
    options: list[list[str]] = await element.evaluate("e => [...e.options].map(o => [o.label, o.value])")
    chosen = next((v for label, v in options if label == text), None)
    chosen = chosen if chosen is not None else next((v for _, v in options if v == text), None)
    if chosen is None:
        labels = ", ".join(label for label, _ in options)
        raise BrowserProblem(f"no option {text!r}; the options are: {labels}")
    await element.select_option(value=chosen)


@tool("browser", order=CallOrder.BARRIER)
async def browser_scroll(ctx: ToolContext, direction: Literal["up", "down"]) -> str:
    """Scroll the page up or down (about half a screen) to reveal more content.

    Args:
        direction: Direction to scroll.
    """

    async def scroll(session: BrowserSession) -> dict[str, Any]:
        page = await session.page()
        await page.evaluate("dy => window.scrollBy(0, dy)", SCROLL_PIXELS if direction == "down" else -SCROLL_PIXELS)
        return {"scrolled": direction}

    return await _run(ctx, scroll)


@tool("browser", order=CallOrder.BARRIER)
async def browser_back(ctx: ToolContext) -> str:
    """Navigate back to the previous page in browser history."""

    async def back(session: BrowserSession) -> dict[str, Any]:
        page = await session.page()
        before = page.url
        await page.go_back(wait_until="load")
        if page.url == before:
            raise BrowserProblem("there is no earlier page in this tab's history")
        return {}

    return await _run(ctx, back)


@tool("browser", order=CallOrder.BARRIER)
async def browser_press(ctx: ToolContext, key: str) -> str:
    """Press a keyboard key in the page: Enter to submit, Tab to move focus, Escape, ArrowDown...

    Args:
        key: Key to press (e.g. 'Enter', 'Tab', 'Escape', 'ArrowDown').
    """

    async def press(session: BrowserSession) -> dict[str, Any]:
        page = await session.page()
        before = session.mark()
        # Pressed on the focused element (else the body) rather than the keyboard, so Playwright waits
        # for a navigation the key requests (Enter in a form) to begin before it returns.
        await page.locator(":focus, body").last.press(key)
        await session.settle(before)
        return {"pressed": key}

    return await _run(ctx, press)


@tool("browser", order=CallOrder.BARRIER)
async def browser_get_images(ctx: ToolContext) -> str:
    """Get every image on the current page with its URL, alt text and size (a broken image has size 0)."""

    async def images(session: BrowserSession) -> dict[str, Any]:
        found = await (await session.page()).evaluate(_IMAGES_JS)
        return {"images": found, "count": len(found)}

    return await _run(ctx, images)


@tool("browser", order=CallOrder.BARRIER)
async def browser_vision(ctx: ToolContext, question: str, annotate: bool = False) -> str:
    """Take a screenshot of the current page and ask a vision model about it; the screenshot is saved in the workspace.

    Use it for what the text snapshot misses: charts, images, layout, colours.

    Args:
        question: What you want to know about the page visually. Be specific.
        annotate: If true, label the interactive elements with their refs on the screenshot.
    """

    async def look(session: BrowserSession) -> dict[str, Any]:
        page = await session.page()
        png, annotations = await annotated_screenshot(session, page) if annotate else (await page.screenshot(), [])
        session.screenshots += 1
        shot = _save_screenshot(ctx, session.screenshots, png)
        extra: dict[str, Any] = {"annotations": annotations} if annotate else {}
        if session.vision is None:
            return {"success": False, "error": NO_VISION, "screenshot_path": shot, **extra}
        try:
            analysis = await ask_vision(session.vision, png, question)
        except VisionFailed as exc:
            return {"success": False, "error": str(exc), "screenshot_path": shot, **extra}
        return {"analysis": analysis, "screenshot_path": shot, **extra}

    return await _run(ctx, look)


def _save_screenshot(ctx: ToolContext, number: int, png: bytes) -> str:
    """Save the PNG as screenshots/browser_screenshot_N.png in the workspace (numbered: repeats read the
    same) and return its path as the agent sees it."""
    path = ctx.sandbox.resolve(f"screenshots/browser_screenshot_{number}.png")
    for folder in reversed([p for p in path.parents if ctx.sandbox.workspace in p.parents]):
        if not folder.exists():
            folder.mkdir()
            ctx.sandbox.adopt(folder)
    path.write_bytes(png)
    ctx.sandbox.adopt(path)
    return ctx.sandbox.visible(path)


@tool("browser", order=CallOrder.BARRIER)
async def browser_console(ctx: ToolContext, clear: bool = False, expression: str | None = None) -> str:
    """Get the page's console messages (log, warn, error, info) and uncaught JavaScript errors, or evaluate JavaScript.

    With `expression`, evaluates it in the page (like the DevTools console) and returns its value as JSON.

    Args:
        clear: If true, clear the message and error buffers after reading.
        expression: JavaScript expression to evaluate in the page context, e.g. 'document.title'.
    """

    async def console(session: BrowserSession) -> dict[str, Any]:
        if expression is not None:
            return await _evaluate(ctx, session, expression)
        await session.drained()
        messages, errors = list(session.console), list(session.errors)
        if clear:
            session.console.clear()
            session.errors.clear()
        return {"console_messages": messages, "js_errors": errors, "total_messages": len(messages),
                "total_errors": len(errors)}  # fmt: skip

    return await _run(ctx, console)


async def _evaluate(ctx: ToolContext, session: BrowserSession, expression: str) -> dict[str, Any]:
    page = await session.page()
    try:
        value = await asyncio.wait_for(page.evaluate(expression), EVALUATE_SECONDS)
    except TimeoutError as exc:
        await session.reset_page()
        raise BrowserProblem(
            f"the expression did not finish within {EVALUATE_SECONDS:g} s; the page was replaced by a blank one"
        ) from exc
    except Error as exc:
        crashed = await session.recover(exc)
        raise BrowserProblem(crashed or f"the expression failed: {_first_line(exc)}") from exc
    text = json.dumps(value, ensure_ascii=False, default=str)
    if len(text) > 2 * SNAPSHOT_LIMIT:
        ctx.flags.add(Flag.TRUNCATED_TOOL_OUTPUT)
        return {"result": text[: 2 * SNAPSHOT_LIMIT], "result_type": "str", "truncated": True}
    return {"result": value, "result_type": type(value).__name__}
