"""Shared test settings, and the event loop and browser the browser tests of one module share."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from hypothesis import settings

from trajforge.tools.browser import BrowserEngine

# Machines here are noisy (CI has 2 cores): correctness is tested, never timing.
settings.register_profile("trajforge", deadline=None)
settings.load_profile("trajforge")


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
