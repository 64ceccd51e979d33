"""A turn's calls run in a safe order: consecutive groups, barriers alone, results in call order."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trajforge.sandbox import SandboxConfig, SandboxFactory
from trajforge.tools import Redactor, Toolbox, ToolContext, tool
from trajforge.tools.ordering import CallOrder, PathAccess, PlannedCall, may_run_together, plan_groups
from trajforge.trace import ToolCall

from .harness import BACKENDS, run
from .scripted_server import call, reply


def _results(episode: Any) -> list[Any]:
    return [
        json.loads(m.content) if m.content.startswith("{") else m.content for m in episode.messages if m.role == "tool"
    ]


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_race_of_the_issue_reads_what_the_first_call_made(backend: str) -> None:
    # Before: all three ran at once, and the trace said "No such file" and the old directory.
    first = "mkdir -p sub && cd sub && export MARK=set && sleep 0.3 && echo one > f.txt"
    script = [
        reply(calls=[
            call("terminal", {"command": first}),
            call("terminal", {"command": "pwd; echo MARK=$MARK; cat f.txt"}),
            call("read_file", {"path": "sub/f.txt"}),
        ]),
        reply("done"),
    ]  # fmt: skip
    episode, _ = run(script, backend)
    one, two, three = _results(episode)
    assert one["exit_code"] == 0
    assert two["output"].splitlines()[0].endswith("/sub")
    assert "MARK=set" in two["output"] and two["output"].rstrip().endswith("one")
    assert "one" in three and "No such file" not in three


def test_reads_of_other_paths_share_a_group_and_a_write_waits_for_reads_of_its_path() -> None:
    calls = [
        _call("read_file", path="a.txt"),
        _call("read_file", path="b.txt"),
        _call("write_file", path="b.txt", content="x"),
        _call("write_file", path="c/d.txt", content="y"),
        _call("search_files", pattern="x", path="c"),
        _call("terminal", command="ls"),
        _call("read_file", path="a.txt"),
    ]
    groups = asyncio.run(_plan(calls))
    assert groups == [[0, 1], [2, 3], [4], [5], [6]]


def test_a_diff_patch_and_a_bad_call_are_planned_safely() -> None:
    calls = [
        _call("read_file", path="a.txt"),
        _call("patch", diff="--- a/a.txt\n+++ b/a.txt\n"),
        _call("read_file", path="a.txt", bogus=1),  # an argument error touches nothing
        _call("read_file", path="../outside"),
    ]
    assert asyncio.run(_plan(calls)) == [[0], [1], [2, 3]]


def _call(name: str, **arguments: Any) -> ToolCall:
    return ToolCall(f"c-{name}-{len(arguments)}", name, arguments)


async def _plan(calls: list[ToolCall]) -> list[list[int]]:
    from trajforge.tools import build_toolbox

    sandbox = await SandboxFactory(SandboxConfig(backend="local")).create()
    try:
        return build_toolbox(["terminal", "file"], ToolContext(sandbox, Redactor())).plan(calls)
    finally:
        await sandbox.close()


# Property: over random call lists, conflicting calls never overlap in time, every call starts after
# every earlier call it conflicts with has finished, and results come back in call order.

_KINDS = {
    "look": (CallOrder.READ_ONLY, None),
    "ask": (CallOrder.NEVER_PARALLEL, None),
    "shell": (CallOrder.BARRIER, None),
    "read": (CallOrder.PATH_SCOPED, False),
    "write": (CallOrder.PATH_SCOPED, True),
}
_PATHS = ["a", "a/b", "a/b/c", "d", "e/f"]


def _probe_tools(log: list[tuple[str, str, float]]) -> list[Any]:
    made = []
    for name, (order, writes) in _KINDS.items():

        def paths(arguments: dict[str, Any], writes: bool | None = writes) -> PathAccess:
            return PathAccess((arguments["path"],), bool(writes))

        async def handler(ctx: ToolContext, path: str, tag: str, delay: int) -> str:
            loop = asyncio.get_running_loop()
            log.append(("start", tag, loop.time()))
            await asyncio.sleep(delay / 1000)
            log.append(("end", tag, loop.time()))
            return tag

        handler.__doc__ = "Probe.\n\nArgs:\n    path: p\n    tag: t\n    delay: d\n"
        made.append(tool("probe", name, order=order, paths=paths if order is CallOrder.PATH_SCOPED else None)(handler))
    return made


_call_lists = st.lists(
    st.tuples(st.sampled_from(sorted(_KINDS)), st.sampled_from(_PATHS), st.integers(0, 3)), min_size=1, max_size=9
)


@given(_call_lists)
def test_property_conflicting_calls_never_overlap_and_results_keep_call_order(
    spec: list[tuple[str, str, int]],
) -> None:
    from trajforge.agent.loop import _Agent
    from trajforge.trace import Episode, TaskRef

    log: list[tuple[str, str, float]] = []

    class _NoSandbox:
        def resolve(self, path: str) -> str:
            return "/w/" + path

    toolbox = Toolbox(_probe_tools(log), ToolContext(_NoSandbox()))  # type: ignore[arg-type]
    calls = [
        ToolCall(f"id{i}", kind, {"path": path, "tag": str(i), "delay": delay})
        for i, (kind, path, delay) in enumerate(spec)
    ]
    episode = Episode(id="e", task=TaskRef("t", "Agent Tools", "todo_planning", "p"), messages=[], tools=[])
    asyncio.run(_Agent(episode, None, toolbox).execute(calls))  # type: ignore[arg-type]

    assert [m.tool_call_id for m in episode.messages] == [c.id for c in calls]
    assert [m.content for m in episode.messages] == [str(i) for i in range(len(calls))]
    order = [tag for event, tag, _ in log if event == "start"]
    ends = {tag: n for n, (event, tag, _) in enumerate(log) if event == "end"}
    starts = {tag: n for n, (event, tag, _) in enumerate(log) if event == "start"}
    planned = [
        PlannedCall(kind, _KINDS[kind][0], PathAccess(("/w/" + path,), bool(_KINDS[kind][1]))
                    if _KINDS[kind][0] is CallOrder.PATH_SCOPED else None)
        for kind, path, _ in spec
    ]  # fmt: skip
    for later in range(len(spec)):
        for earlier in range(later):
            if not may_run_together(planned[earlier], planned[later]):
                assert ends[str(earlier)] < starts[str(later)], (spec, earlier, later)
    assert sorted(order, key=int) == [str(i) for i in range(len(spec))]


@given(st.lists(st.tuples(st.sampled_from(sorted(_KINDS)), st.sampled_from(_PATHS)), max_size=12))
def test_property_groups_cover_every_call_once_in_order_and_are_mutually_safe(spec: list[tuple[str, str]]) -> None:
    planned = [
        PlannedCall(kind, _KINDS[kind][0], PathAccess((path,), bool(_KINDS[kind][1]))
                    if _KINDS[kind][0] is CallOrder.PATH_SCOPED else None)
        for kind, path in spec
    ]  # fmt: skip
    groups = plan_groups(planned)
    assert [i for group in groups for i in group] == list(range(len(spec)))
    for group in groups:
        for a in group:
            for b in group:
                assert a == b or may_run_together(planned[a], planned[b])
    for first, second in itertools.pairwise(groups):
        # a new group starts only because its first call conflicts with the group before
        assert any(not may_run_together(planned[second[0]], planned[i]) for i in first)


def test_a_path_scoped_tool_must_say_its_paths() -> None:
    async def handler(ctx: ToolContext) -> str:
        return ""

    with pytest.raises(ValueError):
        tool("x", "x", order=CallOrder.PATH_SCOPED)(handler)
