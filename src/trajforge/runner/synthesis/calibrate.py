"""Calibration: K episodes of a task with a policy; the task is kept when its pass rate lies in a band.

A task no episode solves is impossible or broken; one every episode solves
teaches nothing. Episodes that end on a transient failure (endpoint down,
timeouts) say nothing about the task and are left out of the rate.
"""

from __future__ import annotations

import asyncio

from trajforge.agent.environment import EnvironmentSetupError
from trajforge.policy import Policy
from trajforge.runner.task_episode import run_task_episode
from trajforge.sandbox import SandboxFactory
from trajforge.tasks import LoadedTask
from trajforge.tasks.spec import Calibration
from trajforge.tasks.synthesis.outcomes import Band, Reason, Rejected
from trajforge.trace import ModelInfo, Outcome


async def calibrate(
    task: LoadedTask, factory: SandboxFactory, policy: Policy, episodes: int, model: ModelInfo, band: Band
) -> Calibration:
    """Run `episodes` episodes of `task` at once; the Calibration when its pass rate is in `band`, else Rejected."""
    spec = task.spec

    async def one(number: int) -> Outcome | None:
        try:
            ran = await run_task_episode(task, factory, policy, config="calibration", model=model,
                                         episode_id=f"calibration-{spec.id}-{number}", repeat=number)  # fmt: skip
        except EnvironmentSetupError as exc:  # only without --probe, which sets every task up first
            raise Rejected(Reason.SETUP_FAILS, str(exc).splitlines()[0], spec.id) from None
        return None if ran.episode.retryable else ran.episode.outcome

    results = await asyncio.gather(*(one(n) for n in range(episodes)), return_exceptions=True)
    for result in results:  # every episode has ended (and closed its sandbox) before one's failure is raised
        if isinstance(result, BaseException):
            raise result
    outcomes = [o for o in results if isinstance(o, Outcome)]
    if not outcomes:
        raise Rejected(Reason.CALIBRATION_FAILED, f"all {episodes} episodes ended on transient failures", spec.id)
    passed = sum(1 for o in outcomes if o is Outcome.PASSED)
    rate = passed / len(outcomes)
    calibration = Calibration(episodes=len(outcomes), passed=passed, pass_rate=round(rate, 4), model=model.name)
    if rate < band.low:
        raise Rejected(Reason.TOO_HARD, f"pass rate {rate:.2f} ({passed}/{len(outcomes)}) < {band.low}", spec.id)
    if rate > band.high:
        raise Rejected(Reason.TOO_EASY, f"pass rate {rate:.2f} ({passed}/{len(outcomes)}) > {band.high}", spec.id)
    return calibration
