"""Fixture web sites with real behaviour, one small ASGI app per site and fresh state per episode.

A task names a site by `app` in its `fixtures.sites`; the harness makes a new
instance for every episode (`make_site`), lets the browser reach it at
`http://NAME.test/`, and after the episode writes `site.state()` as JSON to
`~/.trajforge/sites/NAME.json`, where the task's check reads it (a form's
submissions, a shop's orders). The browser is the only client: the sandbox's
commands have no network under bubblewrap.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trajforge.tasks.sites.base import Site

SITE_APPS: dict[str, str] = {
    "shop": "trajforge.tasks.sites.shop:ShopSite",
    "forms": "trajforge.tasks.sites.forms:FormsSite",
    "news": "trajforge.tasks.sites.news:NewsSite",
    "dashboard": "trajforge.tasks.sites.dashboard:DashboardSite",
    "portal": "trajforge.tasks.sites.portal:PortalSite",
}
"""The built-in sites by the name a task's `app` gives, and where each is (imported when made:
loading task specs stays free of the web framework)."""


def make_site(app: str) -> Site:
    """A fresh instance of the built-in site `app` (KeyError names the known ones)."""
    if app not in SITE_APPS:
        raise KeyError(f"no built-in site {app!r}; known: {', '.join(SITE_APPS)}")
    module, _, name = SITE_APPS[app].partition(":")
    site: Site = getattr(importlib.import_module(module), name)()
    return site


def static_site(folder: Path) -> Site:
    """A fixture folder served as files (a task's `folder` site)."""
    from trajforge.tasks.sites.static import StaticSite

    return StaticSite(folder)


__all__ = ["SITE_APPS", "make_site", "static_site"]
