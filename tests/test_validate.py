"""Each FORMAT.md rule `validate` checks is reported with its row, id, turn and reason."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from trajforge.dataset import Problem, RowChecker, discover, validate, write_rows

from .episodes import sample_row

Row = dict[str, Any]


def _replace_in_turn(index: int, old: str, new: str) -> Callable[[Row], None]:
    def mutate(row: Row) -> None:
        row["conversations"][index]["value"] = row["conversations"][index]["value"].replace(old, new)

    return mutate


def _set(column: str, value: Any) -> Callable[[Row], None]:
    return lambda row: row.__setitem__(column, value)


def _drop_turn(index: int) -> Callable[[Row], None]:
    return lambda row: row["conversations"].pop(index)


def del_tail(row: Row, start: int) -> None:
    del row["conversations"][start:]


def _set_turn(index: int, value: str) -> Callable[[Row], None]:
    return lambda row: row["conversations"][index].__setitem__("value", value)


CASES: list[tuple[str, Callable[[Row], None], int | None, str]] = [
    ("missing column", lambda row: row.pop("task"), None, "missing column task"),
    ("extra column", _set("model", "kimi"), None, "unexpected column model"),
    ("wrong type", _set("tools", []), None, "column tools is list, not a string"),
    ("turn shape", lambda row: row["conversations"].append({"from": "gpt"}), None, "conversations[5] is not an object"),
    ("not a uuid", _set("id", "episode-1"), None, "id 'episode-1' is not a UUID"),
    ("bad category", _set("category", "Cooking"), None, "category 'Cooking' is not in the taxonomy"),
    ("bad subcategory", _set("subcategory", "navigation"), None, "subcategory 'navigation' is not in category"),
    ("task mismatch", _set("task", "something else"), None, "task is not the first human value"),
    ("no think", _replace_in_turn(4, "<think>\n</think>\n", ""), 4, "does not start with a <think> block"),
    ("two thinks", _replace_in_turn(4, "Two files", "<think>\nagain\n</think>\nTwo files"), 4, "more than one think"),
    ("call not json", _replace_in_turn(2, '{"name": "terminal"', '{"name": terminal'), 2, "tool call 1 is not JSON"),
    ("call no name", _replace_in_turn(2, '"name": "terminal"', '"nom": "terminal"'), 2, "tool call 1 has no string"),
    (
        "arguments not object",
        _replace_in_turn(2, '"arguments": {"command": "ls"}', '"arguments": "ls"'),
        2,
        "'arguments' is not a JSON object",
    ),
    ("unknown tool", _replace_in_turn(2, '"name": "terminal"', '"name": "rm_rf"'), 2, "names 'rm_rf', which is not in"),
    (
        "response name mismatch",
        _replace_in_turn(3, '"name": "terminal"', '"name": "read_file"'),
        3,
        "tool response 1 is for 'read_file' but call 1 is 'terminal'",
    ),
    (
        "missing response",
        lambda row: row["conversations"][3].__setitem__(
            "value", row["conversations"][3]["value"].split("\n<tool_resp")[0]
        ),
        3,
        "1 tool responses for 2 tool calls",
    ),
    ("duplicate response id", _replace_in_turn(3, "call_b", "call_a"), 3, "share a tool_call_id"),
    ("response not json", _replace_in_turn(3, '{"tool_call_id": "call_a"', "{tool_call_id"), 3, "is not JSON"),
    ("tool without calls", _set_turn(2, "<think>\nx\n</think>\nno calls"), 3, "a tool turn cannot follow a gpt turn"),
    ("gpt with calls last", lambda row: del_tail(row, 3), 2, "ends on a gpt turn with tool calls"),
    ("order", _drop_turn(1), 1, "a gpt turn with tool calls cannot follow a system turn"),
    ("first not system", _drop_turn(0), 0, "first turn is human turn, not system"),
    ("tag collision", _replace_in_turn(4, "Two files", "Two <tool_response> files"), 4, "tag collision"),
    ("system without tools", _set_turn(0, "just a prompt"), 0, "system turn has no readable <tools> block"),
]


@pytest.mark.parametrize(("name", "mutate", "turn", "reason"), CASES, ids=[c[0] for c in CASES])
def test_each_rule_is_reported(name: str, mutate: Callable[[Row], None], turn: int | None, reason: str) -> None:
    row = sample_row("8c6f3b7e-2a1d-4e5f-9a8b-7c6d5e4f3a2b")
    assert RowChecker().check(row, "f.jsonl", 7) == []
    bad = copy.deepcopy(row)
    mutate(bad)
    problems = RowChecker().check(bad, "f.jsonl", 7)
    assert problems, name
    matching = [p for p in problems if reason in p.reason]
    assert matching, [p.reason for p in problems]
    assert matching[0].turn == turn
    assert (matching[0].file, matching[0].row) == ("f.jsonl", 7)
    if isinstance(bad.get("id"), str):
        assert matching[0].id == bad["id"]


def test_duplicate_ids_within_a_config(tmp_path: Path) -> None:
    row = sample_row("8c6f3b7e-2a1d-4e5f-9a8b-7c6d5e4f3a2b")
    write_rows(tmp_path / "kimi.jsonl", [row, sample_row(), row])
    problems: list[Problem] = []
    summary = validate(discover([tmp_path / "kimi.jsonl"]), problems.append)
    assert (summary.rows_checked, summary.rows_failed) == (3, 1)
    assert [(p.row, p.reason) for p in problems] == [(3, f"duplicate id, first seen at {tmp_path / 'kimi.jsonl'}:1")]


def test_bad_lines_do_not_stop_the_run(tmp_path: Path) -> None:
    good = json.dumps(sample_row())
    path = tmp_path / "mixed.jsonl"
    path.write_text(
        "\n".join(
            [
                good,
                "{not json",
                '"a string"',
                json.dumps({"id": 1}),
                json.dumps(sample_row()).replace("human", "user", 1),
                json.dumps(sample_row()),
            ]
        )
        + "\n"
    )
    problems: list[Problem] = []
    summary = validate(discover([path]), problems.append)
    assert (summary.rows_checked, summary.rows_failed) == (6, 4)
    assert [p.row for p in problems] == [2, 3, 4, 5, 5]
    assert problems[0].reason.startswith("invalid JSON")
    assert problems[1].reason == "row is a JSON str, not an object"
    assert problems[2].reason == "missing columns conversations, tools, category, subcategory, task"
    assert [(p.turn, p.reason) for p in problems[3:]] == [
        (None, "no human turn"),
        (1, "unknown turn kind 'from': 'user'"),
    ]
