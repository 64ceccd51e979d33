"""Delegated children: episodes run for a delegate_task call (or a cron job's prompt), in the parent's sandbox.

Each child gets the parent's toolsets less delegation, clarify, memory and cronjob (so depth is 1),
the parent's workspace and home (with a todo list of its own), its own turn budget, and the same
policy (or, for a scripted policy, the script of that child). Their records are kept for the
parent's episode record, under the id of the call that started them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from trajforge.agent.loop import EpisodeLimits, run_episode
from trajforge.policy import Policy
from trajforge.sandbox import Sandbox
from trajforge.tools import ToolContext, build_toolbox
from trajforge.tools.agent.delegate import CHILDLESS_TOOLSETS, MAX_CHILDREN, ChildReport, ChildTask
from trajforge.tools.agent.home import AgentHome
from trajforge.trace import Episode, Finish, ModelInfo, TaskRef, to_record


def child_prompt(task: ChildTask) -> str:
    """What the child is told: its goal, then the context it was given."""
    return task.goal + (f"\n\nContext:\n{task.context}" if task.context else "")


def report_of(number: int, episode: Episode, seconds: float) -> ChildReport:
    """The parent's view of a finished child."""
    assistant = [m for m in episode.messages if m.role == "assistant"]
    final = assistant[-1].content if assistant and not assistant[-1].tool_calls else None
    return ChildReport(
        task_index=number,
        status="completed" if episode.finish is Finish.STOP else episode.finish.value,
        summary=(final or "").strip(),
        turns=len(assistant),
        tool_calls=sum(len(m.tool_calls) for m in assistant),
        duration_seconds=round(seconds, 3),
        error=episode.error,
    )


class EpisodeChildren:
    """The ChildRunner of one episode; `records` holds the children's episode records by call id."""

    def __init__(
        self,
        parent: TaskRef,
        policy: Policy,
        sandbox: Sandbox,
        context: ToolContext,
        toolsets: list[str],
        limits: EpisodeLimits,
        model: ModelInfo | None = None,
    ) -> None:
        self.parent = parent
        self.policy = policy
        self.sandbox = sandbox
        self.context = context
        self.toolsets = [name for name in toolsets if name not in CHILDLESS_TOOLSETS]
        self.limits = limits
        self.model = model
        self.records: dict[str, list[dict[str, Any]]] = {}
        self._started = 0
        self._slots = asyncio.Semaphore(MAX_CHILDREN)

    def _policy_for(self, number: int) -> Policy:
        for_child: Callable[[int], Policy] | None = getattr(self.policy, "for_child", None)
        return for_child(number) if for_child is not None else self.policy

    async def run_children(self, call_id: str, tasks: list[ChildTask]) -> list[ChildReport]:
        """Run the children at once (at most MAX_CHILDREN at a time); reports and records in task order."""
        numbers = list(range(self._started, self._started + len(tasks)))  # given before running: deterministic
        self._started += len(tasks)
        done = await asyncio.gather(*(self._one(n, i, t) for i, (n, t) in enumerate(zip(numbers, tasks, strict=True))))
        self.records.setdefault(call_id, []).extend(to_record(episode) for episode, _ in done)
        return [report for _, report in done]

    async def _one(self, number: int, index: int, task: ChildTask) -> tuple[Episode, ChildReport]:
        async with self._slots:
            services: dict[type[Any], Any] = {}
            home = self.context.services.get(AgentHome)
            if home is not None:
                services[AgentHome] = home.child(number)
            context = ToolContext(self.sandbox, self.context.redactor, services=services)
            toolbox = build_toolbox(self.toolsets, context)
            ref = TaskRef(f"{self.parent.id}/child-{number}", self.parent.category, self.parent.subcategory,
                          child_prompt(task))  # fmt: skip
            started = time.monotonic()
            episode = await run_episode(
                ref, self._policy_for(number), toolbox, self.sandbox, self.limits, model=self.model
            )
            return episode, report_of(index, episode, time.monotonic() - started)
