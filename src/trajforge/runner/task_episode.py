"""One episode of a catalog task: environment, toolbox, loop, check."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from trajforge.agent import EpisodeLimits, run_episode
from trajforge.agent.environment import TaskEnvironment
from trajforge.agent.loop import describe_exception
from trajforge.policy import OraclePolicy, Policy, ScriptedTurn
from trajforge.runner.settings import EpisodeOverrides
from trajforge.sandbox import SandboxFactory, SandboxInfo
from trajforge.tasks import LoadedTask, Solution, TaskSpec
from trajforge.tasks.checking import episode_seed
from trajforge.tools import TOOLSETS, Redactor, ToolContext, build_toolbox
from trajforge.trace import Episode, ModelInfo, Outcome, TaskRef

CHECK_OUTPUT_CHARS = 4000
"""The tail of a check's output kept in the record."""


@dataclass(frozen=True)
class TaskEpisode:
    """An episode of a task and the sandbox it ran in (removed by now, unless kept)."""

    episode: Episode
    sandbox: SandboxInfo


def runnable(spec: TaskSpec, toolsets: tuple[str, ...] | None = None) -> bool:
    """Whether every toolset the task (or the override) needs is built."""
    if toolsets is not None:
        return all(name in TOOLSETS for name in toolsets)
    return not spec.missing_toolsets(list(TOOLSETS))


def oracle_policy(spec: TaskSpec) -> OraclePolicy:
    """A policy that plays the task's reference solution; raises ValueError for a task without one."""
    if spec.oracle is None:
        raise ValueError(f"task {spec.id} has no oracle")
    return solution_policy(spec.oracle)


def solution_policy(solution: Solution) -> OraclePolicy:
    """A policy that plays a scripted solution (the oracle, a negative or an alternate)."""
    turns = [
        ScriptedTurn(step.reasoning, [(call.tool, dict(call.args)) for call in step.all_calls()])
        for step in solution.steps
    ]
    return OraclePolicy(turns, solution.answer, solution.answer_reasoning)


def final_answer(episode: Episode) -> str | None:
    """The content of the episode's last assistant message when it called no tool (its final answer)."""
    last = next((m for m in reversed(episode.messages) if m.role == "assistant"), None)
    return last.content if last is not None and not last.tool_calls else None


async def run_task_episode(
    task: LoadedTask,
    factory: SandboxFactory,
    policy: Policy,
    *,
    config: str,
    model: ModelInfo,
    secrets: tuple[str, ...] = (),
    episode_id: str | None = None,
    overrides: EpisodeOverrides | None = None,
    repeat: int = 0,
) -> TaskEpisode:
    """Set up the task in a fresh sandbox, run the episode, run the check, clean up.

    Raises EnvironmentSetupError when the fixtures cannot be laid out.
    """
    spec = task.spec
    overrides = overrides or EpisodeOverrides(max_turns=None, wall_seconds=None)
    episode_id = episode_id or str(uuid.uuid4())
    started_at, started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), time.monotonic()
    box = await factory.create()
    try:
        async with TaskEnvironment(task, box, seed=episode_seed(episode_id)) as environment:
            toolsets = list(overrides.toolsets) if overrides.toolsets is not None else spec.toolsets
            toolbox = build_toolbox(toolsets, ToolContext(box, Redactor(secrets)))
            ref = TaskRef(spec.id, spec.category, spec.subcategory, environment.prompt)
            limits = EpisodeLimits(
                max_turns=overrides.max_turns or spec.limits.max_turns,
                wall_seconds=overrides.wall_seconds or spec.limits.wall_seconds,
            )
            episode = await run_episode(
                ref, policy, toolbox, box, limits, episode_id=episode_id, config=config, model=model
            )
            try:
                episode.outcome, output = await environment.check(final_answer(episode))
            except Exception as exc:  # the check could not run: its outcome is `error`, the episode stays
                episode.outcome, output = Outcome.ERROR, f"the check could not run: {describe_exception(exc)}"
            episode.check_output = output[-CHECK_OUTPUT_CHARS:] if output else None
            episode.started_at, episode.wall_seconds = started_at, round(time.monotonic() - started, 3)
            episode.run = {
                "repeat": repeat,
                "sandbox": box.info.backend,
                "isolated": box.info.isolates_filesystem,
                "notes": list(box.info.notes),
                "max_turns": limits.max_turns,
                "wall_seconds": limits.wall_seconds,
                "toolsets": toolsets,
            }
            return TaskEpisode(episode, box.info)
    finally:
        await box.close()
