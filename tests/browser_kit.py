"""A real browser session on the fixture sites for the browser tests: Chromium, no mocks."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from trajforge.sandbox import Sandbox, SandboxConfig, SandboxFactory
from trajforge.tasks.sites import make_site
from trajforge.tasks.sites.base import Site
from trajforge.tools import Toolbox, ToolContext, build_toolbox
from trajforge.tools.browser import BrowserEngine, BrowserSession, VisionConfig
from trajforge.trace import ToolCall


@dataclass
class Browsing:
    """A toolbox with the browser tools, its session and sandbox, and the sites by host."""

    toolbox: Toolbox
    session: BrowserSession
    sandbox: Sandbox
    sites: Mapping[str, Site]

    async def call(self, name: str, **arguments: Any) -> dict[str, Any]:
        """Call one tool and return its JSON result."""
        result = await self.toolbox.call(ToolCall(f"call-{name}", name, arguments))
        data: dict[str, Any] = json.loads(result.content)
        return data


@contextlib.asynccontextmanager
async def browsing(
    apps: tuple[str, ...] = ("shop",),
    engine: BrowserEngine | None = None,
    extra: Mapping[str, Site] | None = None,
    vision: VisionConfig | None = None,
) -> AsyncIterator[Browsing]:
    """A session on `engine` (or one of its own) serving fresh instances of the built-in `apps`."""
    sites: dict[str, Site] = {f"{app}.test": make_site(app) for app in apps}
    sites.update(extra or {})
    sandbox = await SandboxFactory(SandboxConfig(backend="local")).create()
    session = BrowserSession(engine or BrowserEngine(), sites=sites, vision=vision, owns_engine=engine is None)
    context = ToolContext(sandbox)
    context.services[BrowserSession] = session
    try:
        yield Browsing(build_toolbox(["browser", "file"], context), session, sandbox, sites)
    finally:
        await session.close()
        await sandbox.close()
