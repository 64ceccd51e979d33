"""The probe: a synthesized task is set up in a sandbox and its check judged before any agent acts.

The task's negatives (the do-nothing solution, and the model's plausible wrong
one) are played through the issue-11 judge, each in a fresh sandbox: set-up
must succeed, and the check must fail every one of them. A task without a
check is set up once, which finds a failing set-up all the same.
"""

from __future__ import annotations

from trajforge.agent.environment import EnvironmentSetupError
from trajforge.runner.task_episode import run_task_episode, runnable, solution_policy
from trajforge.runner.task_judging import judge_task
from trajforge.sandbox import SandboxFactory
from trajforge.tasks import LoadedTask
from trajforge.tasks.synthesis.answers import DO_NOTHING
from trajforge.tasks.synthesis.outcomes import Reason, Rejected
from trajforge.tools import TOOLSETS
from trajforge.trace import ModelInfo


def check_runnable(task: LoadedTask) -> None:
    """Rejected(UNKNOWN_TOOLSET) when the task asks for a toolset this install has not built."""
    if not runnable(task.spec):
        missing = ", ".join(task.spec.missing_toolsets(list(TOOLSETS)))
        raise Rejected(Reason.UNKNOWN_TOOLSET, f"toolset(s) {missing} not available in this install", task.spec.id)


async def probe(task: LoadedTask, factory: SandboxFactory) -> None:
    """Raise Rejected (set-up fails, pre-solved, wrong solution passes, check error); return when the task holds."""
    spec = task.spec
    check_runnable(task)
    if not spec.has_check:
        try:
            await run_task_episode(task, factory, solution_policy(DO_NOTHING), config="probe",
                                   model=ModelInfo(name="probe"), episode_id=f"probe-{spec.id}")  # fmt: skip
        except EnvironmentSetupError as exc:
            raise Rejected(Reason.SETUP_FAILS, _first_line(exc), spec.id) from None
        return
    for play in await judge_task(task, factory):
        if play.outcome == "setup":
            raise Rejected(Reason.SETUP_FAILS, play.reason, spec.id)
        if play.outcome == "error":
            raise Rejected(Reason.CHECK_ERROR, f"{play.label}: {play.reason}", spec.id)
        if play.misjudged:
            reason = Reason.PRESOLVED if play.label == DO_NOTHING.name else Reason.WRONG_SOLUTION_PASSES
            raise Rejected(reason, f"{play.label}: {play.reason}", spec.id)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).splitlines()
    return lines[0] if lines else type(exc).__name__
