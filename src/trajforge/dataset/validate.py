"""Row-by-row check of published rows against FORMAT.md sections 1, 2 and 4."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from trajforge.dataset.rows.layout import ConfigSource
from trajforge.dataset.rows.readers import MAX_DEPTH, iter_rows
from trajforge.dataset.rows.runfolder import superseded_in
from trajforge.dataset.rows.schema import Problem, shape_problem
from trajforge.tasks import taxonomy_problem
from trajforge.trace import CallBlock, TurnFormatError, order_problems, split_gpt, split_system, split_tool
from trajforge.trace.messages import nested_deeper
from trajforge.trace.turns import loads


@dataclass
class Summary:
    """Counts of a validation run."""

    rows_checked: int = 0
    rows_failed: int = 0
    problems: int = 0
    files_unreadable: int = 0

    @property
    def ok(self) -> bool:
        """Whether nothing at all was wrong."""
        return self.problems == 0


class RowChecker:
    """Checks rows one at a time; remembers ids to find duplicates within a config."""

    def __init__(self) -> None:
        self._seen: dict[str, str] = {}

    def check(self, data: Any, file: str, number: int) -> list[Problem]:
        """Every problem of one row (empty when the row is valid)."""
        row_id = data.get("id") if isinstance(data, dict) and isinstance(data.get("id"), str) else None
        found = row_problems(data)
        if row_id is not None and not shape_problem(data):
            if row_id in self._seen:
                found.insert(0, (None, f"duplicate id, first seen at {self._seen[row_id]}"))
            else:
                self._seen[row_id] = f"{file}:{number}"
        return [Problem(file, number, reason, id=row_id, turn=turn) for turn, reason in found]


def row_problems(data: Any) -> list[tuple[int | None, str]]:
    """(turn or None, reason) for every problem of one row taken alone: all but duplicate ids.

    Never raises: a value nested too deep to read inside a column's text is a problem of the row.
    """
    shape = shape_problem(data)
    if shape:
        return [(None, shape)]
    found: list[tuple[int | None, str]] = [(None, reason) for reason in identity_problems(data)]
    try:
        found.extend(_turn_problems(data))
    except RecursionError:
        found.append((None, "a JSON value in the row nests too deep to read"))
    return found


def identity_problems(row: dict[str, Any]) -> list[str]:
    """Problems of a row's id (a canonical UUID) and taxonomy (a known category and one of its subcategories)."""
    found = []
    row_id = row["id"]
    try:
        if str(uuid.UUID(row_id)) != row_id.lower():
            found.append(f"id {row_id!r} is not a UUID in canonical form")
    except ValueError:
        found.append(f"id {row_id!r} is not a UUID")
    taxonomy = taxonomy_problem(row["category"], row["subcategory"])
    if taxonomy:
        found.append(taxonomy)
    return found


def _tool_names(tools_column: str) -> set[str] | str:
    """Names offered by the `tools` column, or why it cannot be read."""
    try:
        tools = loads(tools_column)
    except ValueError as exc:
        return f"tools is not JSON ({exc})"
    if not isinstance(tools, list):
        return "tools is not a JSON array"
    if nested_deeper(tools, MAX_DEPTH):
        return f"tools nests deeper than {MAX_DEPTH} levels"
    names = set()
    for tool in tools:
        fn = tool.get("function", tool) if isinstance(tool, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            return "tools has an entry without a function name"
        names.add(fn["name"])
    return names


def _turn_problems(row: dict[str, Any]) -> list[tuple[int | None, str]]:
    turns: list[dict[str, str]] = row["conversations"]
    if not turns:
        return [(None, "conversations is empty")]
    found: list[tuple[int | None, str]] = []
    names = _tool_names(row["tools"])
    if isinstance(names, str):
        found.append((None, names))
    offered = names if isinstance(names, set) else None
    first_human = next((t["value"] for t in turns if t["from"] == "human"), None)
    if first_human is None:
        found.append((None, "no human turn"))
    elif row["task"] != first_human:
        found.append((None, "task is not the first human value"))
    if turns[0]["from"] == "system" and split_system(turns[0]["value"]).tools is None:
        found.append((0, "system turn has no readable <tools> block"))
    kinds = [turns[0]["from"]]
    calls: list[CallBlock] = []
    for index, turn in enumerate(turns[1:], 1):
        source, value = turn["from"], turn["value"]
        if source == "gpt":
            calls = _gpt_problems(index, value, offered, found)
            kinds.append("gpt+" if calls else "gpt")
        elif source == "tool":
            _tool_problems(index, value, calls if kinds[-1] == "gpt+" else [], found)
            calls = []
            kinds.append(source)
        elif source in ("system", "human"):
            kinds.append(source)
        else:
            found.append((index, f"unknown turn kind 'from': {source!r}"))
            kinds.append("unknown")
    found.extend(order_problems(kinds))
    return found


def _gpt_problems(
    index: int, value: str, offered: set[str] | None, found: list[tuple[int | None, str]]
) -> list[CallBlock]:
    try:
        calls = split_gpt(value).calls
    except TurnFormatError as exc:
        found.append((index, str(exc)))
        return []
    for k, call in enumerate(calls, 1):
        if nested_deeper(call.arguments, MAX_DEPTH):
            found.append((index, f"tool call {k}: arguments nest deeper than {MAX_DEPTH} levels"))
    if offered is not None:
        for k, call in enumerate(calls, 1):
            if call.name not in offered:
                found.append((index, f"tool call {k} names {call.name!r}, which is not in tools"))
    return calls


def _tool_problems(index: int, value: str, calls: list[CallBlock], found: list[tuple[int | None, str]]) -> None:
    try:
        responses = split_tool(value)
    except TurnFormatError as exc:
        found.append((index, str(exc)))
        return
    if not calls:
        return  # the turn order problem is already reported
    if len(responses) != len(calls):
        found.append((index, f"{len(responses)} tool responses for {len(calls)} tool calls"))
    ids = [r.tool_call_id for r in responses]
    if len(set(ids)) != len(ids):
        found.append((index, "two tool responses share a tool_call_id"))
    for k, (call, response) in enumerate(zip(calls, responses, strict=False), 1):
        if response.name != call.name:
            found.append((index, f"tool response {k} is for {response.name!r} but call {k} is {call.name!r}"))
        if call.id is not None and response.tool_call_id != call.id:
            found.append((index, f"tool response {k} id {response.tool_call_id!r} is not call id {call.id!r}"))


def validate(sources: Iterable[ConfigSource], on_problem: Callable[[Problem], None]) -> Summary:
    """Check every row of every source; each problem goes to `on_problem`.

    In a run folder's row files, a row that a later row of the same id supersedes is not checked.
    """
    sources = list(sources)
    skip = superseded_in(source.files for source in sources)
    summary = Summary()
    for source in sources:
        checker = RowChecker()
        for file in source.files:
            superseded = skip.get(file, frozenset())
            for item in iter_rows(file):
                if (item.row if isinstance(item, Problem) else item.number) in superseded:
                    continue
                problems = [item] if isinstance(item, Problem) else checker.check(item.data, item.file, item.number)
                if isinstance(item, Problem) and item.row is None:
                    summary.files_unreadable += 1
                else:
                    summary.rows_checked += 1
                    summary.rows_failed += bool(problems)
                summary.problems += len(problems)
                for problem in problems:
                    on_problem(problem)
    return summary
