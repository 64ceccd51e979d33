"""Replaying a recorded episode in a fresh sandbox: the same calls, executed again."""

from __future__ import annotations

from trajforge.agent import EpisodeLimits, run_episode
from trajforge.agent.agent_state import prepare_agent, recorded_clock
from trajforge.agent.environment import TaskEnvironment
from trajforge.policy import CallComparison, ReplayPolicy, compare_results
from trajforge.runner.browsing import episode_browser
from trajforge.sandbox import SandboxFactory
from trajforge.tasks import LoadedTask, TaskSpec
from trajforge.tasks.checking import episode_seed
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
        context = ToolContext(box)
        toolbox = build_toolbox(list(TOOLSETS), context)
        turns = sum(1 for m in recorded.messages if m.role == "assistant")
        limits = EpisodeLimits(max_turns=max(1, turns), wall_seconds=900.0)
        policy = ReplayPolicy(recorded)
        # The agent home (preloaded from the task) on the recorded clock, and the task's scripted user.
        spec = task.spec if task is not None else _bare_spec(recorded)
        clock = recorded_clock(recorded)
        if task is None:
            agent = await prepare_agent(spec, recorded.task, box, context, policy, list(TOOLSETS), limits, clock=clock)
            replayed = await run_episode(recorded.task, policy, toolbox, box, limits, config=recorded.config)
        else:
            # the recorded episode's seed: seeded fixtures draw the data it saw
            async with TaskEnvironment(task, box, seed=episode_seed(recorded.id)) as environment:
                browser = episode_browser(list(TOOLSETS), environment, context, None, None)
                agent = await prepare_agent(spec, recorded.task, box, context, policy, list(TOOLSETS), limits,
                                            clock=clock)  # fmt: skip
                try:
                    replayed = await run_episode(
                        recorded.task, policy, toolbox, box, limits, config=recorded.config, user=agent.user
                    )
                finally:
                    if browser is not None:
                        await browser.close()
        agent.home.close()
    finally:
        await box.close()
    return replayed, compare_results(recorded, replayed)


def _bare_spec(recorded: Episode) -> TaskSpec:
    """A spec for an episode whose task is not known: no home preloaded, no user."""
    ref = recorded.task
    return TaskSpec.model_construct(id=ref.id, category=ref.category, subcategory=ref.subcategory, prompt=ref.prompt)
