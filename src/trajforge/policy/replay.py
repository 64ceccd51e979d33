"""Assistant turns from a recorded episode, and how a replay's tool results compare with the record."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from trajforge.policy.base import Completion
from trajforge.trace import Episode, Message, TaskRef, Usage, from_record

_NO_TASK = TaskRef("", "", "", "")

_WORKSPACE = re.compile(r"Your workspace is (\S+?);")
# Wall-clock figures that commands print and no replay reproduces, each with the name replay reports.
_TIMINGS = {
    "pytest duration": re.compile(r"\bin \d+\.\d+s\b( \(\d+:\d\d:\d\d\))?"),
    "time(1) figures": re.compile(r"\b(real|user|sys)(\s+)\d+m\d+\.\d+s"),
    "delegated children's durations": re.compile(r'"(duration_seconds|total_duration_seconds)": \d+(\.\d+)?'),
    # what a command measured itself and printed with a unit (`664579 primes 7.49 s`, `took 12.5 ms`)
    "measured durations": re.compile(r"\b\d+\.\d+ ?(s|ms|µs|us|ns|sec|secs|seconds|milliseconds)\b"),
    # when a file was made, as ls -l (Nov 30 18:46), ls --full-time, zip and tar listings print it
    "file dates": re.compile(
        r"\b\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d(\.\d+)?)?( [+-]\d{4})?\b"
        r"|\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d +\d\d:\d\d\b"
    ),
}


class ReplayPolicy:
    """Plays the recorded assistant messages in order: the same reasoning, content and calls.

    Later human turns replay when the task's user sends the same follow-ups (a
    scripted user does). Delegated children play their own recorded messages
    (`for_child`, from the record's `run.children`, in the order they started).
    """

    def __init__(self, recorded: Episode) -> None:
        self.turns = [m for m in recorded.messages if m.role == "assistant"]
        children = recorded.run.get("children")
        self.children = (
            [from_record(child) for calls in children.values() if isinstance(calls, list) for child in calls]
            if isinstance(children, dict)
            else []
        )

    def for_child(self, number: int) -> ReplayPolicy:
        """The policy the `number`-th delegated child plays: its recorded messages (none left: an empty end)."""
        if number < len(self.children):
            return ReplayPolicy(self.children[number])
        return ReplayPolicy(Episode(id="", task=_NO_TASK, messages=[]))

    async def complete(self, messages: list[Message], tools: list[dict[str, Any]]) -> Completion:
        """The next recorded assistant message (a final empty answer once they run out)."""
        played = sum(1 for m in messages if m.role == "assistant")
        if played < len(self.turns):
            return Completion(message=self.turns[played], usage=Usage(), seconds=0.0)
        return Completion(message=Message(role="assistant", content="(end of recording)"), usage=Usage(), seconds=0.0)

    async def close(self) -> None:
        """Nothing to release."""


@dataclass(frozen=True)
class CallComparison:
    """One tool call of the recording and whether replaying it gave the same result."""

    turn: int
    """Index of the assistant message (0-based, among assistant messages)."""
    call_id: str
    name: str
    same: bool
    recorded: str
    replayed: str | None
    """None when the replay never reached this call."""
    timings: tuple[str, ...] = ()
    """When the results differ only in wall-clock timings: which kinds (e.g. `pytest duration`); `same` is then
    True, since no run can reproduce them."""


def workspace_of(episode: Episode) -> str | None:
    """The workspace path an episode's system prompt names, when it names one."""
    system = next((m.content for m in episode.messages if m.role == "system"), None) or ""
    match = _WORKSPACE.search(system)
    return match.group(1) if match else None


def compare_results(recorded: Episode, replayed: Episode) -> list[CallComparison]:
    """Each recorded call's result against the replayed one, paired by turn and position.

    Sandbox paths differ between runs, so each episode's own workspace (and the
    folder around it) is replaced by a placeholder before comparing.
    """
    old, new = _results_by_turn(recorded), _results_by_turn(replayed)
    old_root, new_root = workspace_of(recorded), workspace_of(replayed)
    comparisons = []
    for turn, calls in enumerate(old):
        for position, (call_id, name, content) in enumerate(calls):
            other = new[turn][position][2] if turn < len(new) and position < len(new[turn]) else None
            before, after = _normal(content, old_root), _normal(other, new_root) if other is not None else None
            timings = _timing_only(before, after) if after is not None and before != after else ()
            same = after is not None and (before == after or bool(timings))
            comparisons.append(CallComparison(turn, call_id, name, same, content, other, timings))
    return comparisons


def _timing_only(before: str, after: str) -> tuple[str, ...]:
    """The kinds of timings that are all that differ between two results, or () when more differs."""
    used = []
    for kind, pattern in _TIMINGS.items():
        masked_before, found = pattern.subn("<time>", before)
        masked_after, _ = pattern.subn("<time>", after)
        if found:
            before, after = masked_before, masked_after
            used.append(kind)
    return tuple(used) if before == after else ()


def _results_by_turn(episode: Episode) -> list[list[tuple[str, str, str]]]:
    results = {m.tool_call_id: m.content or "" for m in episode.messages if m.role == "tool"}
    return [
        [(call.id, call.name, results.get(call.id, "")) for call in m.tool_calls]
        for m in episode.messages
        if m.role == "assistant"
    ]


def _normal(text: str, workspace: str | None) -> str:
    if not workspace:
        return text
    text = text.replace(workspace, "<workspace>")
    root = workspace.rsplit("/", 1)[0]
    # A random sandbox folder around the workspace (local backend, older records); not `/` of a fixed `/workspace`.
    return text.replace(root, "<sandbox>") if root.strip("/") else text
