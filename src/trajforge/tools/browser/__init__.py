"""The browser toolset: Playwright on Chromium, one browser per worker, one context per episode."""

from trajforge.tools.browser.engine import (
    BrowserEngine,
    BrowserPool,
    BrowserUnavailable,
    browser_pids,
    pss_bytes,
    rss_bytes,
)
from trajforge.tools.browser.session import BrowserSession, BrowserStats
from trajforge.tools.browser.siteserver import ASGIApp, SiteServer
from trajforge.tools.browser.snapshot import SNAPSHOT_LIMIT
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
from trajforge.tools.browser.vision import VisionConfig

BROWSER_TOOLS = (
    browser_navigate,
    browser_snapshot,
    browser_click,
    browser_type,
    browser_scroll,
    browser_back,
    browser_press,
    browser_get_images,
    browser_vision,
    browser_console,
)

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
    "browser_pids",
    "pss_bytes",
    "rss_bytes",
]
