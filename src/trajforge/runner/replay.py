"""Replaying a recorded episode in a fresh sandbox: the same calls, executed again."""

from __future__ import annotations

from trajforge.agent import EpisodeLimits, run_episode
from trajforge.agent.environment import TaskEnvironment
from trajforge.policy import CallComparison, ReplayPolicy, compare_results
from trajforge.sandbox import SandboxFactory
from trajforge.tasks import LoadedTask
from trajforge.tools import TOOLSETS, ToolContext, build_toolbox
from trajforge.trace import Episode


async def replay_episode(
    recorded: Episode, task: LoadedTask | None, factory: SandboxFactory
) -> tuple[Episode, list[CallComparison]]:
    """Run `recorded`'s assistant turns again (in `task`'s environment when known) and compare results.

    Every built tool is offered, so any recorded call to one of them runs again;
    a call to a tool that is not built comes back as an error and counts as different.
    """
    box = await factory.create()
    try:
        toolbox = build_toolbox(list(TOOLSETS), ToolContext(box))
        turns = sum(1 for m in recorded.messages if m.role == "assistant")
        limits = EpisodeLimits(max_turns=max(1, turns), wall_seconds=900.0)
        policy = ReplayPolicy(recorded)
        if task is None:
            replayed = await run_episode(recorded.task, policy, toolbox, box, limits, config=recorded.config)
        else:
            async with TaskEnvironment(task, box):
                replayed = await run_episode(recorded.task, policy, toolbox, box, limits, config=recorded.config)
    finally:
        await box.close()
    return replayed, compare_results(recorded, replayed)
