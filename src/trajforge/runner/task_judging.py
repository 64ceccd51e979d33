"""Playing a task's scripted solutions (oracle, negatives, alternates) and judging its check by them.

A check is right about a task when the oracle and every alternate pass it and
every negative fails it. Each solution is one episode with its own stable id
(and so its own seed); a seeded task's oracle is played under two seeds, so a
check that only holds for one drawn input is caught.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from trajforge.agent.environment import EnvironmentSetupError
from trajforge.runner.ledger import episode_id
from trajforge.runner.task_episode import run_task_episode, solution_policy
from trajforge.sandbox import SandboxFactory
from trajforge.tasks import LoadedTask, Solution
from trajforge.tasks.grounding import episode_grounding_problems
from trajforge.trace import Episode, Finish, ModelInfo, Outcome

Kind = Literal["oracle", "negative", "alternate"]
JUDGE_CONFIG = "validate"
"""The config name whose stable episode ids (and so seeds) validation plays under."""


@dataclass(frozen=True)
class Play:
    """One scripted solution played: what the check said and whether that was right."""

    task_id: str
    kind: Kind
    label: str
    outcome: str
    """The check's outcome (`passed`, `failed`, `error`, `none`), or `setup` when set-up failed."""
    finish: str
    misjudged: bool
    reason: str
    """One line: why the play is wrong (empty when right)."""
    episode: Episode | None = None
    ungrounded: tuple[str, ...] = ()
    """For oracles and alternates: what the final answer states that no tool result shows, or "see above"."""


def solutions_of(task: LoadedTask) -> list[tuple[Kind, str, Solution, int]]:
    """(kind, label, solution, repeat) for every scripted solution of the task, oracle first."""
    spec = task.spec
    plays: list[tuple[Kind, str, Solution, int]] = []
    if spec.oracle is not None:
        plays.append(("oracle", "oracle", spec.oracle, 0))
        if spec.seeded:
            plays.append(("oracle", "oracle (second seed)", spec.oracle, 1))
    for number, negative in enumerate(spec.negatives):
        plays.append(("negative", negative.name or f"negatives[{number}]", negative, 100 + number))
    for number, alternate in enumerate(spec.alternates):
        plays.append(("alternate", alternate.name or f"alternates[{number}]", alternate, 200 + number))
    return plays


def verdict(kind: Kind, has_check: bool, episode: Episode) -> str:
    """Why this play misjudges the task (empty when the check judged it right)."""
    outcome = episode.outcome
    if outcome is Outcome.ERROR:
        return f"the check could not judge it: {(episode.check_output or '')[-300:].strip()}"
    if kind == "negative":
        return "the check passed this wrong solution" if outcome is Outcome.PASSED else ""
    if episode.finish is not Finish.STOP:
        return f"it ended with finish {episode.finish.value}: {episode.error or ''}".rstrip(": ")
    if outcome is Outcome.PASSED or (outcome is Outcome.NONE and not has_check):
        return ""
    tail = (episode.check_output or "").strip().splitlines()[-3:]
    return f"the check failed this correct solution: {' | '.join(tail)}"


async def judge_task(task: LoadedTask, factory: SandboxFactory) -> list[Play]:
    """Play every scripted solution of `task` in a fresh sandbox each and judge the check's verdicts."""
    plays = []
    for kind, label, solution, repeat in solutions_of(task):
        plays.append(await _play(task, factory, kind, label, solution, repeat))
    return plays


async def judge_tasks(
    tasks: list[LoadedTask], factory: SandboxFactory, jobs: int = 2, done: Callable[[list[Play]], None] | None = None
) -> list[Play]:
    """Judge every task, `jobs` tasks at a time; `done` hears each task's plays as it finishes."""
    gate = asyncio.Semaphore(max(1, jobs))
    results: list[list[Play]] = [[] for _ in tasks]

    async def one(index: int, task: LoadedTask) -> None:
        async with gate:
            results[index] = await judge_task(task, factory)
        if done is not None:
            done(results[index])

    async with asyncio.TaskGroup() as group:
        for index, task in enumerate(tasks):
            group.create_task(one(index, task))
    return [play for plays in results for play in plays]


async def _play(task: LoadedTask, factory: SandboxFactory, kind: Kind, label: str, solution: Solution,
                repeat: int) -> Play:  # fmt: skip
    spec = task.spec
    try:
        ran = await run_task_episode(
            task, factory, solution_policy(solution), config=JUDGE_CONFIG, model=ModelInfo(name=kind),
            episode_id=episode_id(JUDGE_CONFIG, spec.id, repeat), repeat=repeat,
        )  # fmt: skip
    except EnvironmentSetupError as exc:
        return Play(spec.id, kind, label, "setup", "error", True, f"set-up failed: {str(exc).splitlines()[0]}")
    episode = ran.episode
    reason = verdict(kind, spec.has_check, episode)
    ungrounded = () if kind == "negative" else tuple(episode_grounding_problems(episode))
    return Play(spec.id, kind, label, episode.outcome.value, episode.finish.value, bool(reason), reason, episode,
                ungrounded)  # fmt: skip
