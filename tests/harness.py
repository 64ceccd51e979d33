"""Running real episodes against the scripted server, for the tests."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from trajforge.agent import EpisodeLimits, run_episode
from trajforge.agent.context import ContextWindow
from trajforge.policy import ModelConfig, OpenAIPolicy
from trajforge.sandbox import SandboxConfig, SandboxFactory
from trajforge.tools import Redactor, ToolContext, build_toolbox
from trajforge.trace import Episode, TaskRef

from .scripted_server import Reply, ScriptedServer


def _backends() -> list[str]:
    """local always; bwrap where it works here (the factory's own probe decides)."""
    chosen = asyncio.run(SandboxFactory(SandboxConfig(backend="auto")).backend())
    return ["local", "bwrap"] if chosen == "bwrap" else ["local"]


BACKENDS = _backends()
TASK = TaskRef("t-test", "Terminal & Coding", "script_writing", "Do the thing.")


async def episode_against(
    server: ScriptedServer,
    backend: str = "local",
    *,
    toolsets: tuple[str, ...] = ("terminal", "file", "code"),
    limits: EpisodeLimits | None = None,
    api_key: str = "",
    timeout: float = 30.0,
    context: ContextWindow | None = None,
    **model: Any,
) -> Episode:
    """One episode against `server` in a fresh sandbox of `backend`, closed afterwards."""
    config = ModelConfig(server.url, "scripted", api_key=api_key, timeout=timeout, backoff_base=0.01, **model)
    policy = OpenAIPolicy(config)
    factory = SandboxFactory(SandboxConfig(backend=backend))  # type: ignore[arg-type]
    sandbox = await factory.create()
    try:
        toolbox = build_toolbox(toolsets, ToolContext(sandbox, Redactor([api_key])))
        limits = limits or EpisodeLimits(max_turns=10)
        return await run_episode(TASK, policy, toolbox, sandbox, limits, context=context)
    finally:
        await sandbox.close()
        await policy.close()


def run(server_script: list[Reply], backend: str = "local", **kwargs: Any) -> tuple[Episode, ScriptedServer]:
    """Run one episode synchronously; returns it and the server (with the requests it saw)."""
    with ScriptedServer(server_script) as server:
        episode = asyncio.run(episode_against(server, backend, **kwargs))
    return episode, server


def ledger_records(out: Path, config: str) -> list[dict[str, Any]]:
    """Every record of a config in a run folder, over all its ledger files (each line must be whole JSON)."""
    files = sorted((out / "runs" / config).glob("episodes-*.jsonl"))
    return [json.loads(line) for file in files for line in file.read_text().splitlines()]
