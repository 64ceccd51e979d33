"""Shared test settings, and the event loop and browser the browser tests of one module share."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

from trajforge.tools.browser import BrowserEngine

# Machines here are noisy (CI has 2 cores): correctness is tested, never timing.
settings.register_profile("trajforge", deadline=None)
settings.load_profile("trajforge")

# Browser tests run Debian's /usr/bin/chromium (the project's rule for tests), also where the faster
# chromium-headless-shell is installed and would be the engine's default; the CLI runs tests start inherit
# it. `test_browser_launch` compares the two browsers' pages where the shell is installed.
os.environ.setdefault("TRAJFORGE_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.Runner]:
    """One event loop for the module, so its tests share one browser (a launch costs seconds)."""
    with asyncio.Runner() as runner:
        yield runner


@pytest.fixture(scope="module")
def engine(loop: asyncio.Runner) -> Iterator[BrowserEngine]:
    """The module's browser, closed at the end."""
    shared = BrowserEngine()
    yield shared
    loop.run(shared.close())
