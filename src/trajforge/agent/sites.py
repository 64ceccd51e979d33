"""The fixture sites of one episode: made fresh, reached by the browser at `http://NAME.test/`, and
their state written where the check reads it.

Why names and not ports: a site served on a random 127.0.0.1 port put that port into the prompt, so
repeats of a browser task differed in their URL. The browser's request routing answers `NAME.test`
from the in-process app instead (no socket, no port), so the URL is the same in every repeat. The
sandbox's commands cannot reach sites either way (under bubblewrap each command has a network
namespace of its own), so browser tasks hand data to the terminal through files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from trajforge.sandbox import Sandbox
from trajforge.tasks import SiteFixture
from trajforge.tasks.sites import make_site, static_site

if TYPE_CHECKING:  # Starlette: imported when a site is made (make_site), not by every episode
    from trajforge.tasks.sites.base import Site

SITE_DOMAIN = "test"
STATE_FOLDER = "sites"
"""Under the sandbox's private folder (~/.trajforge): one NAME.json per built-in site."""


def site_url(name: str) -> str:
    """The URL a site named `name` has in every episode."""
    return f"http://{name}.{SITE_DOMAIN}/"


class EpisodeSites:
    """The sites of one episode by host name (`shop.test`), each a fresh instance."""

    def __init__(self) -> None:
        self.by_host: dict[str, Site] = {}
        self.urls: dict[str, str] = {}
        self._apps: dict[str, Site] = {}

    def add(self, fixture: SiteFixture, folder: Path | None) -> None:
        """Make the site of `fixture` (a built-in app, or `folder` served as files)."""
        site = make_site(fixture.app) if fixture.app else static_site(folder or Path("."))
        self.by_host[f"{fixture.name}.{SITE_DOMAIN}"] = site
        self.urls[fixture.name] = site_url(fixture.name)
        if fixture.app:
            self._apps[fixture.name] = site

    def write_state(self, sandbox: Sandbox) -> None:
        """Each built-in site's state as JSON in ~/.trajforge/sites/NAME.json, over anything there."""
        folder = sandbox.info.home / ".trajforge" / STATE_FOLDER
        for name, site in self._apps.items():
            sandbox.write_text(folder / f"{name}.json", json.dumps(site.state(), indent=1, sort_keys=True))
