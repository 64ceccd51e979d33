"""How Chromium is launched: the features we turn off keep Playwright's own off too (Chromium keeps only
the last `--disable-features`), and no renderer is spent on browser UI nobody sees."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import async_playwright
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from trajforge.tools.browser import BrowserEngine
from trajforge.tools.browser import engine as engine_module
from trajforge.tools.browser.engine import (
    CHROMIUM,
    DISABLED_FEATURES,
    HEADLESS_SHELL,
    PLAYWRIGHT_DISABLED_FEATURES,
    is_headless_shell,
)

from .browser_kit import browsing

pytestmark = pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Chromium is not installed")


def _switches(pid: int, name: str) -> list[str]:
    """The values of every `--name=...` on the process's command line."""
    args = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    return [arg.partition("=")[2] for arg in args if arg.startswith(f"--{name}=")]


def test_our_disabled_features_keep_playwrights(loop: asyncio.Runner, engine: BrowserEngine) -> None:
    async def playwrights_own() -> list[str]:
        marker = "--trajforge-test-defaults"
        async with async_playwright() as driver:
            browser = await driver.chromium.launch(executable_path=engine.executable, args=[marker])
            try:
                from trajforge.tools.browser import browser_pids

                return _switches(browser_pids(marker)[0], "disable-features")
            finally:
                await browser.close()

    defaults = loop.run(playwrights_own())
    assert len(defaults) == 1
    loop.run(engine.browser())
    effective = _switches(engine.pids()[0], "disable-features")[-1]  # Chromium keeps the last one
    features = set(effective.split(","))
    assert set(defaults[0].split(",")) <= features, "PLAYWRIGHT_DISABLED_FEATURES is behind the driver's list"
    assert set(PLAYWRIGHT_DISABLED_FEATURES) | set(DISABLED_FEATURES) == features


def test_no_renderer_is_spent_on_the_address_bar(loop: asyncio.Runner, engine: BrowserEngine) -> None:
    async def targets() -> list[str]:
        browser = await engine.browser()
        context = await browser.new_context()
        try:
            await context.new_page()
            session = await browser.new_browser_cdp_session()
            found = await session.send("Target.getTargets")
            return [f"{t['type']} {t['url']}" for t in found["targetInfos"]]
        finally:
            await context.close()

    listed = loop.run(targets())
    assert not [t for t in listed if "omnibox" in t or t.startswith("browser_ui")], listed


def test_the_headless_shell_is_used_when_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shell = tmp_path / "chromium-headless-shell"
    monkeypatch.delenv("TRAJFORGE_CHROMIUM", raising=False)
    monkeypatch.setattr(engine_module, "HEADLESS_SHELL", str(shell))
    assert BrowserEngine().executable == engine_module.CHROMIUM  # not installed
    shell.write_text("")
    assert BrowserEngine().executable == str(shell)
    monkeypatch.setenv("TRAJFORGE_CHROMIUM", "/opt/other/chrome")
    assert BrowserEngine().executable == "/opt/other/chrome"  # the user's choice wins


def _installed_shell() -> str | None:
    """Debian's headless shell, or one TRAJFORGE_CHROMIUM names."""
    for candidate in (HEADLESS_SHELL, os.environ.get("TRAJFORGE_CHROMIUM", "")):
        if candidate and is_headless_shell(candidate) and Path(candidate).exists():
            return candidate
    return None


async def _echo(request: Any) -> Any:
    lines = "".join(
        f"<li>{k}: {v}</li>" for k, v in sorted(request.headers.items()) if k.startswith(("accept", "user"))
    )
    return HTMLResponse(f"<!doctype html><title>Echo</title><ul>{lines}</ul><button>Search</button>")


ECHO = Starlette(routes=[Route("/", _echo)])
SEEN_JS = "[navigator.userAgent, navigator.languages.join(), devicePixelRatio, innerWidth, innerHeight]"


@pytest.mark.skipif(_installed_shell() is None, reason="no chromium-headless-shell installed")
def test_pages_see_the_same_in_the_headless_shell(loop: asyncio.Runner) -> None:
    async def seen(executable: str) -> tuple[Any, ...]:
        engine = BrowserEngine(executable=executable)
        try:
            async with browsing(("shop",), engine=engine, extra={"echo.test": ECHO}) as b:  # type: ignore[dict-item]
                await b.call("browser_navigate", url="http://echo.test/")
                echoed = (await b.call("browser_snapshot", full=True))["snapshot"]
                assert "user-agent: Mozilla" in echoed
                page = await b.session.page()
                facts = await page.evaluate(SEEN_JS)
                echo_png = await page.screenshot()
                await b.call("browser_navigate", url="http://shop.test/")
                boxes = (await b.call("browser_vision", question="-", annotate=True))["annotations"]
                return echoed, facts, echo_png, await page.screenshot(), boxes
        finally:
            await engine.close()

    shell = _installed_shell()
    assert shell is not None
    chromium, headless_shell = loop.run(seen(CHROMIUM)), loop.run(seen(shell))
    for what, theirs, ours in zip(("headers", "navigator", "echo screenshot", "shop screenshot", "boxes"),
                                  chromium, headless_shell, strict=True):  # fmt: skip
        assert theirs == ours, what
