"""One episode end to end: sandbox, toolbox, policy, loop, and the files it is written to."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from trajforge.agent import EpisodeLimits, run_episode
from trajforge.policy import ModelConfig, OpenAIPolicy
from trajforge.runner.records import append_line
from trajforge.sandbox import SandboxConfig, SandboxFactory
from trajforge.tools import Redactor, ToolContext, build_toolbox
from trajforge.trace import Episode, ModelInfo, RenderError, TaskRef, render, to_record


@dataclass
class SingleRun:
    """What `run_single` did: the episode, the backend it ran in, and where it was written."""

    episode: Episode
    backend: str
    workspace: Path
    record_path: Path
    row_path: Path | None
    """None when the episode could not be laid out as a row (see `row_error`)."""
    row_error: str | None = None


async def run_single(
    task: TaskRef,
    toolsets: list[str],
    model: ModelConfig,
    sandbox: SandboxConfig,
    limits: EpisodeLimits,
    out: Path,
    config: str,
) -> SingleRun:
    """Run `task` once and append its record to OUT/episodes.jsonl and its row to OUT/rows.jsonl."""
    factory = SandboxFactory(sandbox)
    box = await factory.create()
    policy = OpenAIPolicy(model)
    try:
        toolbox = build_toolbox(toolsets, ToolContext(box, Redactor([model.api_key])))
        info = ModelInfo(name=model.model, endpoint=model.endpoint, sampling=model.sampling())
        episode = await run_episode(task, policy, toolbox, box, limits, config=config, model=info)
    finally:
        await policy.close()
        await box.close()
    record_path = out / "episodes.jsonl"
    append_line(record_path, to_record(episode))
    try:
        row = render(episode)
    except RenderError as exc:
        return SingleRun(episode, box.info.backend, box.workspace, record_path, None, str(exc))
    row_path = out / "rows.jsonl"
    append_line(row_path, row)
    return SingleRun(episode, box.info.backend, box.workspace, record_path, row_path)
