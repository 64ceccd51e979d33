"""The `delegate_task` tool: child agents for sub-tasks (hermes-agent's delegate_tool).

Children run synchronously (batch generation has no one to receive a late result), with the same
policy, in the same workspace, each with its own turn budget, and without delegate_task, clarify,
memory and cronjob (so depth is 1). Who runs them is the episode's `ChildRunner` (agent/delegation.py);
their messages are kept in the parent's episode record under the call, not in the row.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Protocol

from trajforge.tools.ordering import CallOrder
from trajforge.tools.registry import ToolContext, ToolError, current_call, tool
from trajforge.trace.turns import dumps

MAX_CHILDREN = 3
CHILDLESS_TOOLSETS = ("delegation", "clarify", "memory", "cronjob")
"""Toolsets a child never gets: no grandchildren, no questions to the user, no shared memory or jobs."""


@dataclass(frozen=True)
class ChildTask:
    """One sub-task: its goal and the context the child needs (it sees nothing of the parent's conversation)."""

    goal: str
    context: str = ""


@dataclass(frozen=True)
class ChildReport:
    """What a child did."""

    task_index: int
    status: str
    """completed, or why it ended (max_turns, timeout, model_error, error...)."""
    summary: str
    """Its final answer."""
    turns: int
    tool_calls: int
    duration_seconds: float
    error: str | None = None


class ChildRunner(Protocol):
    """Runs child episodes for the delegating call `call_id`; one report per task, in order."""

    async def run_children(self, call_id: str, tasks: list[ChildTask]) -> list[ChildReport]:
        """Run the children (at most MAX_CHILDREN at once) and report on each."""
        ...


def child_tasks(goal: str, context: str, tasks: list[dict[str, Any]] | None) -> list[ChildTask]:
    """The sub-tasks a call asks for; a ToolError when there are none, too many or a malformed one."""
    found: list[ChildTask] = []
    if tasks:
        for position, raw in enumerate(tasks):
            if not isinstance(raw, dict) or not str(raw.get("goal") or "").strip():
                raise ToolError(f"tasks[{position}] needs a goal")
            unknown = set(raw) - {"goal", "context"}
            if unknown:
                raise ToolError(f"tasks[{position}] has unknown field(s) {', '.join(sorted(unknown))}")
            found.append(ChildTask(str(raw["goal"]).strip(), str(raw.get("context") or "").strip()))
    elif goal.strip():
        found.append(ChildTask(goal.strip(), context.strip()))
    if not found:
        raise ToolError("give a goal, or tasks: [{goal, context}]")
    if len(found) > MAX_CHILDREN:
        raise ToolError(f"at most {MAX_CHILDREN} tasks at once; got {len(found)}")
    return found


@tool("delegation", order=CallOrder.BARRIER)
async def delegate_task(
    ctx: ToolContext, goal: str = "", context: str = "", tasks: list[dict[str, Any]] | None = None
) -> str:
    """Hand sub-tasks to child agents that work in the same workspace and report back when done.

    Each child starts fresh: it knows only its goal and the context you give (paths, what was
    found so far, constraints). Give one goal, or up to 3 tasks that run at the same time.
    Children cannot delegate further, ask the user, or use memory or scheduled jobs. The result
    lists each child's status, its summary (final answer), turns, tool calls and duration.

    Args:
        goal: The sub-task, stated so that someone new to it can do it.
        context: What the child needs to know: files, findings, constraints.
        tasks: Several sub-tasks at once (at most 3), each {goal, context}.
    """
    planned = child_tasks(goal, context, tasks)
    runner = ctx.service(ChildRunner)  # type: ignore[type-abstract]
    call = current_call.get()
    reports = await runner.run_children(call.id if call else "", planned)
    return dumps(
        {
            "results": [asdict(report) for report in reports],
            "total_duration_seconds": max((r.duration_seconds for r in reports), default=0.0),
        }
    )
