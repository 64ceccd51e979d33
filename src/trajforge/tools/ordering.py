"""How the calls of one assistant turn may run: consecutive groups, each group's calls at once.

Every tool declares how it may run alongside others (`CallOrder`):

- `READ_ONLY`: reads state and changes nothing (`session_search`, `skills_list`, browser reads):
  runs beside anything but a barrier.
- `PATH_SCOPED`: reads or writes files named by its arguments (`read_file`, `write_file`, `patch`,
  `search_files`): runs beside other path-scoped calls when their paths do not overlap, or when
  both only read. A call whose paths cannot be told (a multi-file diff) is a barrier.
- `NEVER_PARALLEL`: one at a time, never beside another call of the same kind (`clarify`: the
  user answers one question at a time); runs beside read-only calls.
- `BARRIER`: runs alone (`terminal` and everything that changes shared state).

`plan_groups` walks the calls in order and puts each into the current group when it may run beside
every call already there, else starts a new group. Groups run one after another; results keep call
order. The plan depends only on the calls and their arguments, never on timing, so a trace is the
same in every repeat.
"""

from __future__ import annotations

import enum
import posixpath
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


class CallOrder(enum.Enum):
    """How a tool's calls may run beside other calls of the same turn."""

    READ_ONLY = "read_only"
    PATH_SCOPED = "path_scoped"
    NEVER_PARALLEL = "never_parallel"
    BARRIER = "barrier"


@dataclass(frozen=True)
class PathAccess:
    """The files a path-scoped call touches: paths as the tool resolves them, and whether it writes."""

    paths: tuple[str, ...]
    writes: bool


PathsOf = Callable[[dict[str, Any]], PathAccess | None]
"""A path-scoped tool's function from its arguments to the paths it touches as given (None: cannot
tell); the toolbox resolves them as the tool will before planning."""


@dataclass(frozen=True)
class PlannedCall:
    """One call as the planner sees it: its tool's declaration and, when path-scoped, its paths."""

    tool: str
    order: CallOrder
    access: PathAccess | None = None


def _overlap(a: str, b: str) -> bool:
    """Whether two resolved paths are the same or one holds the other."""
    a, b = posixpath.normpath(a), posixpath.normpath(b)
    return a == b or a.startswith(b.rstrip("/") + "/") or b.startswith(a.rstrip("/") + "/")


def _paths_conflict(a: PathAccess, b: PathAccess) -> bool:
    if not (a.writes or b.writes):
        return False
    return any(_overlap(x, y) for x in a.paths for y in b.paths)


def may_run_together(a: PlannedCall, b: PlannedCall) -> bool:
    """Whether two calls may run at the same time (symmetric)."""
    if CallOrder.BARRIER in (a.order, b.order):
        return False
    if CallOrder.READ_ONLY in (a.order, b.order):
        return True
    if a.order is CallOrder.NEVER_PARALLEL or b.order is CallOrder.NEVER_PARALLEL:
        return False  # beside another never-parallel call or a file access: one at a time
    assert a.access is not None and b.access is not None  # both path-scoped with known paths
    return not _paths_conflict(a.access, b.access)


def normalized(call: PlannedCall) -> PlannedCall:
    """A path-scoped call whose paths are unknown runs as a barrier."""
    if call.order is CallOrder.PATH_SCOPED and call.access is None:
        return PlannedCall(call.tool, CallOrder.BARRIER)
    return call


def plan_groups(calls: Sequence[PlannedCall]) -> list[list[int]]:
    """Indexes of `calls` in consecutive groups; each group's calls may all run at once.

    Every index appears once, in increasing order across and within groups.
    """
    groups: list[list[int]] = []
    planned = [normalized(call) for call in calls]
    for index, call in enumerate(planned):
        if groups and all(may_run_together(call, planned[other]) for other in groups[-1]):
            groups[-1].append(index)
        else:
            groups.append([index])
    return groups
