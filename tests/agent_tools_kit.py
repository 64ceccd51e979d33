"""A sandbox with an agent home and every agent tool, for the agent-tool tests."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from trajforge.sandbox import Sandbox, SandboxConfig, SandboxFactory
from trajforge.tools import Redactor, Toolbox, ToolContext, build_toolbox
from trajforge.tools.agent.home import AgentHome
from trajforge.trace import ToolCall

CLOCK = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
AGENT_TOOLSETS = ("memory", "todo", "skills", "sessions", "cronjob", "clarify", "terminal", "file")


class Kit:
    """One sandbox, its home, and a toolbox whose calls run synchronously: `kit.call("todo", todos=[...])`."""

    def __init__(self, runner: asyncio.Runner, sandbox: Sandbox, toolsets: tuple[str, ...]) -> None:
        self.runner = runner
        self.sandbox = sandbox
        self.home = AgentHome(sandbox, CLOCK)
        self.context = ToolContext(sandbox, Redactor(), services={AgentHome: self.home})
        self.toolbox: Toolbox = build_toolbox(toolsets, self.context)
        self._calls = 0

    def raw(self, tool_name: str, /, **arguments: Any) -> tuple[Any, bool]:
        """The result (JSON decoded when it is JSON) and whether it is an error."""
        self._calls += 1
        result = self.runner.run(self.toolbox.call(ToolCall(f"c{self._calls}", tool_name, arguments)))
        try:
            return json.loads(result.content), result.is_error
        except ValueError:
            return result.content, result.is_error

    def call(self, tool_name: str, /, **arguments: Any) -> Any:
        """A result that must not be an error."""
        content, is_error = self.raw(tool_name, **arguments)
        assert not is_error, content
        return content

    def error(self, tool_name: str, /, **arguments: Any) -> dict[str, Any]:
        """A result that must be an error."""
        content, is_error = self.raw(tool_name, **arguments)
        assert is_error, content
        assert isinstance(content, dict) and content["error"]
        return content


@contextmanager
def kit(toolsets: tuple[str, ...] = AGENT_TOOLSETS) -> Iterator[Kit]:
    """A Kit on a fresh local sandbox, closed afterwards."""
    with asyncio.Runner() as runner:
        sandbox = runner.run(SandboxFactory(SandboxConfig(backend="local")).create())
        made = Kit(runner, sandbox, toolsets)
        try:
            yield made
        finally:
            made.home.close()
            runner.run(sandbox.close())
