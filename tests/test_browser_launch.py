"""How Chromium is launched: the features we turn off keep Playwright's own off too (Chromium keeps only
the last `--disable-features`), and no renderer is spent on browser UI nobody sees."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from playwright.async_api import async_playwright

from trajforge.tools.browser import BrowserEngine
from trajforge.tools.browser import engine as engine_module
from trajforge.tools.browser.engine import DISABLED_FEATURES, PLAYWRIGHT_DISABLED_FEATURES

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
