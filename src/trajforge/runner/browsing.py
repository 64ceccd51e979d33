"""The browser of an episode: a session on the worker's engine when the episode offers browser tools."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from trajforge.agent.environment import TaskEnvironment
from trajforge.policy import ModelConfig
from trajforge.tools import ToolContext
from trajforge.tools.browser import BrowserEngine, VisionConfig

if TYPE_CHECKING:
    from trajforge.tools.browser import BrowserSession


def vision_config(
    model: ModelConfig | None, endpoint: str | None = None, name: str | None = None
) -> VisionConfig | None:
    """Where browser_vision asks: `endpoint`/`name` when given (`--vision-endpoint/--vision-model`),
    else the episode's own model; None when there is neither (the oracle without a vision model)."""
    if endpoint or name:
        base = endpoint or (model.endpoint if model else None)
        chosen = name or (model.model if model else None)
        if base and chosen:
            return VisionConfig(base, chosen, model.api_key if model and base == model.endpoint else "")
        return None
    return VisionConfig(model.endpoint, model.model, model.api_key) if model else None


def episode_browser(
    toolsets: Sequence[str],
    environment: TaskEnvironment,
    context: ToolContext,
    engine: BrowserEngine | None,
    vision: VisionConfig | None,
) -> BrowserSession | None:
    """A browser session for the episode (registered in `context`), or None when it has no browser tools.

    Without a worker's `engine` the session gets one of its own, closed with it. Nothing starts
    until the first browser call.
    """
    if "browser" not in toolsets:
        return None
    from trajforge.tools.browser import BrowserSession  # Playwright: imported by episodes with a browser

    session = BrowserSession(
        engine or BrowserEngine(),
        sites=environment.sites.by_host,
        allowed_hosts=tuple(environment.task.spec.fixtures.browser_hosts),
        vision=vision,
        owns_engine=engine is None,
    )
    context.services[BrowserSession] = session
    return session
