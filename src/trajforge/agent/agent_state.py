"""What an episode of a task has besides its workspace: the agent home, the user, delegated children.

`prepare_agent` lays out the home from the task's `home:` section, gives the tools their services
(the home, the user for clarify, the child runner for delegate_task and cron prompts) and the
system prompt its frozen memory snapshot. `AgentState.finish` stores the finished episode as a
session of the home and records the episode's clock and its children's records.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from trajforge.agent.delegation import EpisodeChildren
from trajforge.agent.environment import EnvironmentSetupError
from trajforge.agent.loop import EpisodeLimits
from trajforge.agent.user import EpisodeUser, ScriptedUser, SimulatedUser
from trajforge.policy import Policy
from trajforge.sandbox import Sandbox
from trajforge.tasks import TaskSpec
from trajforge.tasks.agent_spec import AgentHomeSpec, UserSpec
from trajforge.tools import ToolContext, ToolError
from trajforge.tools.agent import home_helper as layout
from trajforge.tools.agent.clarify import UserChannel
from trajforge.tools.agent.cronjob import JobBook, new_job, write_jobs
from trajforge.tools.agent.delegate import ChildRunner
from trajforge.tools.agent.home import AgentHome, iso, utc
from trajforge.tools.agent.memory import save as save_memory
from trajforge.tools.agent.memory import snapshot
from trajforge.tools.agent.sessions_db import StoredMessage
from trajforge.tools.agent.todo import write_list
from trajforge.trace import Episode, ModelInfo, TaskRef


@dataclass
class AgentState:
    """The agent-side state of one episode."""

    home: AgentHome
    user: EpisodeUser | None
    children: EpisodeChildren
    keep_in: Path | None = None
    """Where a shared home (a multi-session series) is saved after the episode."""

    async def finish(self, episode: Episode) -> None:
        """Store the episode as a session of a kept home; record the clock and the children's records."""
        if self.keep_in is not None:  # only a kept home (a series) has a later session to recall it in
            messages = [
                StoredMessage(m.role, m.content or "", m.name if m.role == "tool" else None)
                for m in episode.messages
                if m.role in ("user", "assistant", "tool") and (m.content or "").strip()
            ]
            title = " ".join(episode.task.prompt.split())[:80]
            (await self.home.sessions()).add_session(episode.id, title, iso(self.home.clock), messages)
        episode.run["clock"] = iso(self.home.clock)
        if self.children.records:
            episode.run["children"] = dict(self.children.records)
        self.home.close()
        if self.keep_in is not None:
            await asyncio.to_thread(save_shared_home, self.home.root, self.keep_in)
            episode.run["shared_home"] = self.keep_in.name


def episode_clock(spec: AgentHomeSpec | None) -> dt.datetime:
    """The task's clock, or the real time now (to the second)."""
    if spec is not None and spec.clock:
        return utc(spec.clock)
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def recorded_clock(episode: Episode) -> dt.datetime | None:
    """The clock an episode recorded (`run.clock`), or None."""
    text = episode.run.get("clock")
    return utc(text) if isinstance(text, str) else None


def make_user(spec: UserSpec | None, policy: Policy | None) -> EpisodeUser | None:
    """The episode's user: scripted, simulated by `policy`'s model, or none."""
    if spec is None:
        return None
    if spec.simulate is not None:
        if policy is None or not hasattr(policy, "config"):
            return None  # a scripted policy has no model to play the user
        return SimulatedUser(policy, spec.simulate.persona, spec.simulate.goal, spec.max_user_turns)
    return ScriptedUser(spec.replies, spec.follow_ups)


async def preload(home: AgentHome, spec: AgentHomeSpec, task_id: str) -> None:
    """Write the home's starting state; EnvironmentSetupError naming the field when it cannot."""
    for target, entries in (("memory", spec.memory), ("user", spec.user)):
        if entries:
            await save_memory(home, target, [entry.strip() for entry in entries])
    for skill in spec.skills:
        folder = "/".join([layout.SKILLS_DIR, *([skill.category] if skill.category else []), skill.name])
        front = f"---\nname: {skill.name}\ndescription: {_yaml_scalar(skill.description)}\n---\n\n"
        await home.write_text(f"{folder}/SKILL.md", front + skill.body.rstrip() + "\n")
        for path, text in skill.files.items():
            await home.write_text(f"{folder}/{path}", text)
    for number, session in enumerate(spec.sessions, 1):
        messages = [StoredMessage(m.role, m.content) for m in session.messages]
        store = await home.sessions()
        started = iso(utc(session.started_at))
        store.add_session(session.id or f"s-{number}", session.title, started, messages, session.source)
    if spec.todos:
        await write_list(home, [todo.model_dump() for todo in spec.todos])
    book = JobBook()
    for number, job in enumerate(spec.jobs):
        try:
            made = new_job(home, book, job.model_dump(exclude={"paused"}))
        except ToolError as exc:
            raise EnvironmentSetupError(f"task {task_id}: home.jobs.{number}: {exc}") from None
        if job.paused:
            made.update(state="paused", next_run_at=None)
    if book.jobs:
        await write_jobs(home, book)


def _yaml_scalar(text: str) -> str:
    """`text` as a one-line YAML string (quoted, so ':' or '#' in it stay text)."""
    return '"' + " ".join(text.split()).replace("\\", "\\\\").replace('"', '\\"') + '"'


async def prepare_agent(
    spec: TaskSpec,
    task: TaskRef,
    sandbox: Sandbox,
    context: ToolContext,
    policy: Policy,
    toolsets: list[str],
    limits: EpisodeLimits,
    *,
    user_policy: Policy | None = None,
    model: ModelInfo | None = None,
    clock: dt.datetime | None = None,
    homes: Path | None = None,
) -> AgentState:
    """Lay out the home and give `context` the services the agent tools use; see the module's docstring.

    `user_policy` plays a simulated user (default: the episode's own policy); `clock` replaces the
    episode's clock (a replay uses the recorded one); `homes` is where shared homes (`home.shared`)
    are kept between the sessions of a series.
    """
    home = AgentHome(sandbox, clock or episode_clock(spec.home))
    keep_in = homes / spec.home.shared if homes is not None and spec.home and spec.home.shared else None
    if keep_in is not None and keep_in.is_dir():
        await asyncio.to_thread(load_shared_home, keep_in, home)  # a later session of the series
    elif spec.home is not None:
        await preload(home, spec.home, spec.id)
    user = make_user(spec.user, user_policy or policy)
    children = EpisodeChildren(task, policy, sandbox, context, toolsets, limits, model)
    context.services[AgentHome] = home
    context.services[ChildRunner] = children
    if user is not None:
        context.services[UserChannel] = user
    if "memory" in toolsets:
        frozen = await snapshot(home)
        if frozen:
            context.prompt_notes.append(frozen)
    return AgentState(home, user, children, keep_in)


def load_shared_home(saved: Path, home: AgentHome) -> None:
    """Lay a series' saved home out as this episode's home, owned by the sandbox's user."""
    shutil.copytree(saved, home.root, dirs_exist_ok=True, symlinks=True)
    home.sandbox.adopt(home.root)
    for folder, dirs, files in os.walk(home.root):
        for name in dirs + files:
            home.sandbox.adopt(Path(folder) / name)


def save_shared_home(root: Path, saved: Path) -> None:
    """Keep the episode's home for the series' next session: copied whole, then renamed over the old copy."""
    saved.parent.mkdir(parents=True, exist_ok=True)
    fresh = saved.with_name(f".{saved.name}.new")
    shutil.rmtree(fresh, ignore_errors=True)
    if root.is_dir():
        shutil.copytree(root, fresh, symlinks=True)
    else:
        fresh.mkdir()
    old = saved.with_name(f".{saved.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if saved.exists():
        saved.rename(old)
    fresh.rename(saved)
    shutil.rmtree(old, ignore_errors=True)
