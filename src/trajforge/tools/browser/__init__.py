"""The browser toolset: Playwright on Chromium, one browser per worker, one context per episode.

Playwright is imported only where a browser is used: the session, the tools and their
`BROWSER_TOOLS` tuple load on first access (PEP 562), so `generate` over tasks without
a browser, and every other command, start without it (issue 10).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from trajforge.tools.browser.engine import (
    BrowserEngine,
    BrowserPool,
    BrowserUnavailable,
    browser_pids,
    pss_bytes,
    rss_bytes,
)
from trajforge.tools.browser.siteserver import ASGIApp, SiteServer
from trajforge.tools.browser.snapshot import SNAPSHOT_LIMIT
from trajforge.tools.browser.vision import VisionConfig

if TYPE_CHECKING:
    from trajforge.tools.browser.session import BrowserSession, BrowserStats
    from trajforge.tools.browser.tools import (
        browser_back,
        browser_click,
        browser_console,
        browser_get_images,
        browser_navigate,
        browser_press,
        browser_scroll,
        browser_snapshot,
        browser_type,
        browser_vision,
    )
    from trajforge.tools.registry import Tool

    BROWSER_TOOLS: tuple[Tool, ...]

_TOOL_NAMES = (
    "browser_navigate",
    "browser_snapshot",
    "browser_click",
    "browser_type",
    "browser_scroll",
    "browser_back",
    "browser_press",
    "browser_get_images",
    "browser_vision",
    "browser_console",
)
_LAZY = {"BrowserSession": "session", "BrowserStats": "session", **dict.fromkeys(_TOOL_NAMES, "tools")}


def __getattr__(name: str) -> Any:
    """The names that need Playwright, imported on first use."""
    if name == "BROWSER_TOOLS":
        tools = importlib.import_module("trajforge.tools.browser.tools")
        value: Any = tuple(getattr(tools, tool) for tool in _TOOL_NAMES)
    elif name in _LAZY:
        value = getattr(importlib.import_module(f"trajforge.tools.browser.{_LAZY[name]}"), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later lookups are plain attribute reads
    return value


__all__ = [
    "BROWSER_TOOLS",
    "SNAPSHOT_LIMIT",
    "ASGIApp",
    "BrowserEngine",
    "BrowserPool",
    "BrowserSession",
    "BrowserStats",
    "BrowserUnavailable",
    "SiteServer",
    "VisionConfig",
    "browser_back",
    "browser_click",
    "browser_console",
    "browser_get_images",
    "browser_navigate",
    "browser_pids",
    "browser_press",
    "browser_scroll",
    "browser_snapshot",
    "browser_type",
    "browser_vision",
    "pss_bytes",
    "rss_bytes",
]
