"""One episode of a catalog task: environment, toolbox, loop, check."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from trajforge.agent import EpisodeLimits, run_episode
from trajforge.agent.agent_state import prepare_agent
from trajforge.agent.context import ContextSettings, ContextWindow
from trajforge.agent.environment import TaskEnvironment
from trajforge.agent.loop import describe_exception
from trajforge.policy import OraclePolicy, Policy, ScriptedTurn
from trajforge.runner.browsing import episode_browser
from trajforge.runner.settings import EpisodeOverrides
from trajforge.sandbox import ListRequest, ReadRequest, Sandbox, SandboxError, SandboxFactory, SandboxInfo
from trajforge.tasks import LoadedTask, Solution, TaskSpec
from trajforge.tasks.checking import episode_seed
from trajforge.tasks.grounding import final_answer
from trajforge.tasks.spec import SolutionPart
from trajforge.tools import TOOLSETS, Redactor, ToolContext, build_toolbox
from trajforge.tools.browser import BrowserEngine, VisionConfig
from trajforge.trace import Episode, ModelInfo, Outcome, TaskRef
from trajforge.trace.tokens import cached_counter

if TYPE_CHECKING:
    from trajforge.tools.browser import BrowserSession

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
    return OraclePolicy(
        turns,
        solution.answer,
        solution.answer_reasoning,
        follow_ups=[_part_policy(part) for part in solution.follow_ups],
        children=[_part_policy(part) for part in solution.children],
    )


def _part_policy(part: SolutionPart) -> OraclePolicy:
    turns = [ScriptedTurn(step.reasoning, [(c.tool, dict(c.args)) for c in step.all_calls()]) for step in part.steps]
    return OraclePolicy(turns, part.answer, part.answer_reasoning)


def context_window(overrides: EpisodeOverrides, model: ModelInfo) -> ContextWindow | None:
    """The episode's context budget when the run set one (a context size or a tool-result limit)."""
    if overrides.max_context_tokens is None and overrides.max_tool_result_tokens is None:
        return None
    reserve = model.sampling.get("max_tokens")
    settings = ContextSettings(
        max_context_tokens=overrides.max_context_tokens,
        on_context=overrides.on_context,
        reserve_tokens=reserve if isinstance(reserve, int) else 0,
        max_tool_result_tokens=overrides.max_tool_result_tokens,
    )
    return ContextWindow(settings, cached_counter(overrides.tokenizer))


async def keep_screenshots(box: Sandbox, target: Path) -> int:
    """Copy the PNGs browser tools saved in the workspace's `screenshots/` to `target`; how many."""
    try:
        listing = await box.list_files(ListRequest("screenshots"))
    except (FileNotFoundError, NotADirectoryError, SandboxError):
        return 0
    kept = 0
    for entry in listing.entries:
        if entry.kind == "file" and entry.path.endswith(".png"):
            content = await box.read_file(ReadRequest(entry.path))
            if not content.truncated:
                target.mkdir(parents=True, exist_ok=True)
                (target / Path(entry.path).name).write_bytes(content.data)
                kept += 1
    return kept


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
    browser: BrowserEngine | None = None,
    vision: VisionConfig | None = None,
    user_policy: Policy | None = None,
    homes: Path | None = None,
    screenshots: Path | None = None,
) -> TaskEpisode:
    """Set up the task in a fresh sandbox, run the episode, run the check, clean up.

    Raises EnvironmentSetupError when the fixtures cannot be laid out. `browser` is the worker's
    browser engine (a task with browser tools gets a session on it; without one, an engine of its
    own); `vision` is where browser_vision asks. `screenshots`: the folder whose `<episode id>/`
    receives the screenshots browser tools saved (the viewer shows them beside their calls).
    """
    spec = task.spec
    overrides = overrides or EpisodeOverrides(max_turns=None, wall_seconds=None)
    episode_id = episode_id or str(uuid.uuid4())
    started_at, started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), time.monotonic()
    box = await factory.create()
    browser_session: BrowserSession | None = None
    try:
        async with TaskEnvironment(task, box, seed=episode_seed(episode_id)) as environment:
            toolsets = list(overrides.toolsets) if overrides.toolsets is not None else spec.toolsets
            context = ToolContext(box, Redactor(secrets))
            browser_session = episode_browser(toolsets, environment, context, browser, vision)
            toolbox = build_toolbox(toolsets, context)
            ref = TaskRef(spec.id, spec.category, spec.subcategory, environment.prompt)
            limits = EpisodeLimits(
                max_turns=overrides.max_turns or spec.limits.max_turns,
                wall_seconds=overrides.wall_seconds or spec.limits.wall_seconds,
            )
            agent = await prepare_agent(
                spec, ref, box, context, policy, toolsets, limits, model=model, user_policy=user_policy, homes=homes
            )
            window = context_window(overrides, model)
            episode = await run_episode(
                ref, policy, toolbox, box, limits, episode_id=episode_id, config=config, model=model, user=agent.user,
                context=window,
            )  # fmt: skip
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
            if browser_session is not None:
                # which Chromium made the pages (the headless shell when installed, else /usr/bin/chromium)
                executable = Path(browser_session.engine.executable).name
                episode.run["browser"] = {**browser_session.stats.as_dict(), "executable": executable}
                if screenshots is not None and browser_session.screenshots:
                    await keep_screenshots(box, screenshots / episode_id)
            if window is not None:
                episode.run["context"] = window.record()
            await agent.finish(episode)
            return TaskEpisode(episode, box.info)
    finally:
        if browser_session is not None:
            await browser_session.close()
        await box.close()
