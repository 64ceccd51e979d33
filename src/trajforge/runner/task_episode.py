"""One episode of a catalog task: environment, toolbox, loop, check."""

from __future__ import annotations

from dataclasses import dataclass

from trajforge.agent import EpisodeLimits, run_episode
from trajforge.agent.environment import TaskEnvironment
from trajforge.policy import OraclePolicy, Policy, ScriptedTurn
from trajforge.sandbox import SandboxFactory, SandboxInfo
from trajforge.tasks import LoadedTask, TaskSpec
from trajforge.tools import TOOLSETS, Redactor, ToolContext, build_toolbox
from trajforge.trace import Episode, ModelInfo, TaskRef


@dataclass(frozen=True)
class TaskEpisode:
    """An episode of a task and the sandbox it ran in (removed by now, unless kept)."""

    episode: Episode
    sandbox: SandboxInfo


def runnable(spec: TaskSpec) -> bool:
    """Whether every toolset the task needs is built."""
    return not spec.missing_toolsets(list(TOOLSETS))


def oracle_policy(spec: TaskSpec) -> OraclePolicy:
    """A policy that plays the task's reference solution; raises ValueError for a task without one."""
    if spec.oracle is None:
        raise ValueError(f"task {spec.id} has no oracle")
    turns = [
        ScriptedTurn(step.reasoning, [(call.tool, dict(call.args)) for call in step.all_calls()])
        for step in spec.oracle.steps
    ]
    return OraclePolicy(turns, spec.oracle.answer, spec.oracle.answer_reasoning)


async def run_task_episode(
    task: LoadedTask,
    factory: SandboxFactory,
    policy: Policy,
    *,
    config: str,
    model: ModelInfo,
    secrets: tuple[str, ...] = (),
    episode_id: str | None = None,
) -> TaskEpisode:
    """Set up the task in a fresh sandbox, run the episode, run the check, clean up.

    Raises EnvironmentSetupError when the fixtures cannot be laid out.
    """
    spec = task.spec
    box = await factory.create()
    try:
        async with TaskEnvironment(task, box) as environment:
            toolbox = build_toolbox(spec.toolsets, ToolContext(box, Redactor(secrets)))
            ref = TaskRef(spec.id, spec.category, spec.subcategory, environment.prompt)
            limits = EpisodeLimits(max_turns=spec.limits.max_turns, wall_seconds=spec.limits.wall_seconds)
            episode = await run_episode(
                ref, policy, toolbox, box, limits, episode_id=episode_id, config=config, model=model
            )
            episode.outcome, _ = await environment.check()
            return TaskEpisode(episode, box.info)
    finally:
        await box.close()
