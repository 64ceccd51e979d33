"""One ad-hoc episode (a prompt, no fixtures) against a served model, written to a folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from trajforge.policy import ModelConfig, OpenAIPolicy
from trajforge.runner.generate import model_info
from trajforge.runner.records import write_episode
from trajforge.runner.task_episode import run_task_episode
from trajforge.sandbox import SandboxConfig, SandboxFactory
from trajforge.tasks import LoadedTask, TaskSpec
from trajforge.trace import Episode


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


async def run_single(spec: TaskSpec, model: ModelConfig, sandbox: SandboxConfig, out: Path, config: str) -> SingleRun:
    """Run `spec` once and append its record to OUT/episodes.jsonl and its row to OUT/rows.jsonl."""
    policy = OpenAIPolicy(model)
    try:
        ran = await run_task_episode(
            LoadedTask(spec, out / "adhoc.yaml"), SandboxFactory(sandbox), policy,
            config=config, model=model_info(model), secrets=(model.api_key,),
        )  # fmt: skip
    finally:
        await policy.close()
    records, rows = out / "episodes.jsonl", out / "rows.jsonl"
    row_error = write_episode(ran.episode, records, rows)
    return SingleRun(ran.episode, ran.sandbox.backend, ran.sandbox.workspace, records,
                     None if row_error else rows, row_error)  # fmt: skip
