"""`trajforge import PATH --from raw --tool-format NAME`: raw generations to episode records that validate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from trajforge.dataset.conversion.importers import ImportRowError, ImportSettings, convert

from .harness import ledger_records
from .test_cli import run

K_BEGIN, K_END = "<|tool_calls_section_begin|>", "<|tool_calls_section_end|>"
ROW1 = "7d4e2a10-1111-4aaa-8bbb-000000000001"
ROW2 = "7d4e2a10-1111-4aaa-8bbb-000000000002"
ROW3 = "7d4e2a10-1111-4aaa-8bbb-000000000003"
ROW4 = "7d4e2a10-1111-4aaa-8bbb-000000000004"
TOOLS = [
    {"type": "function", "function": {"name": "terminal", "description": "Run a command.", "parameters": {
        "type": "object", "properties": {"command": {"type": "string"}, "timeout": {"type": "integer"}},
        "required": ["command"]}}},
]  # fmt: skip


def kimi_call(index: int, command: str) -> str:
    return (
        f"<|tool_call_begin|>functions.terminal:{index}<|tool_call_argument_begin|>"
        f"{json.dumps({'command': command})}<|tool_call_end|>"
    )


def kimi_row(row_id: str) -> dict[str, Any]:
    return {
        "id": row_id,
        "category": "Terminal & Coding",
        "subcategory": "script_writing",
        "tools": json.dumps(TOOLS),
        "messages": [
            {"role": "system", "content": "You are an agent."},
            {"role": "user", "content": "How many files are here?"},
            {"role": "assistant", "text": f"<think>List them, twice.</think>Listing.{K_BEGIN}"
             f"{kimi_call(0, 'ls')}{kimi_call(1, 'ls -a')}{K_END}"},
            {"role": "tool", "content": "a.txt"},
            {"role": "tool", "content": ".\n..\na.txt"},
            {"role": "assistant", "text": "<think>One file.</think>There is one file, a.txt."},
        ],
    }  # fmt: skip


def test_import_raw_kimi_generations_gives_records_that_validate(tmp_path: Path) -> None:
    source = tmp_path / "kimi-k2.5-raw.jsonl"
    broken = kimi_row(ROW3)
    broken["messages"][2]["text"] = (
        "Listing." + K_BEGIN + '<|tool_call_begin|>functions.terminal:0<|tool_call_argument_begin|>{"comm'
    )
    broken["messages"] = broken["messages"][:3]
    orphan = kimi_row(ROW4)
    orphan["messages"].insert(2, {"role": "tool", "content": "nobody asked"})
    lines = [kimi_row(ROW1), kimi_row(ROW2), broken, orphan]
    source.write_text("".join(json.dumps(line) + "\n" for line in lines) + "{not json\n")
    result = run("import", source, "--from", "raw", "--tool-format", "kimi_k2", "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert "importing as config 'kimi-k2.5-raw' (the file's name)" in result.stderr.replace("\n", " ")
    assert "3 episodes imported, 2 rows skipped" in result.stdout
    assert f"raw.jsonl:4: id={ROW4} message 2: a tool result with no tool call before it" in result.stderr
    records = {r["id"]: r for r in ledger_records(tmp_path / "out", "kimi-k2.5-raw")}
    first = records[ROW1]["messages"]
    assert first[2]["reasoning"] == "List them, twice." and first[2]["content"] == "Listing."
    assert first[2]["tool_calls"] == [
        {"id": "functions.terminal:0", "name": "terminal", "arguments": {"command": "ls"}, "source": "raw:kimi_k2"},
        {"id": "functions.terminal:1", "name": "terminal", "arguments": {"command": "ls -a"}, "source": "raw:kimi_k2"},
    ]
    assert [(m["tool_call_id"], m["content"]) for m in first[3:5]] == [
        ("functions.terminal:0", "a.txt"), ("functions.terminal:1", ".\n..\na.txt")
    ]  # fmt: skip
    assert first[5]["reasoning"] == "One file." and first[5]["content"] == "There is one file, a.txt."
    # The cut-off call stayed text in the content, and the record says why.
    cut = records[ROW3]
    assert cut["messages"][2]["tool_calls"] == [] and '{"comm' in cut["messages"][2]["content"]
    assert cut["run"]["import"]["problems"] and cut["run"]["import"]["tool_format"] == "kimi_k2"
    validated = run("validate", tmp_path / "out" / "rows" / "kimi-k2.5-raw")
    assert validated.returncode == 0, validated.stdout + validated.stderr


def test_import_raw_usage_errors(tmp_path: Path) -> None:
    source = tmp_path / "raw.jsonl"
    source.write_text(json.dumps(kimi_row("x")) + "\n")
    missing = run("import", source, "--from", "raw", "--out", tmp_path / "out")
    assert missing.returncode == 2 and "--from raw needs --tool-format NAME: one of hermes" in missing.stderr
    unknown = run("import", source, "--from", "raw", "--tool-format", "kimi", "--out", tmp_path / "out")
    assert unknown.returncode == 2 and "unknown tool format 'kimi'" in unknown.stderr
    assert "Traceback" not in missing.stderr + unknown.stderr


def _convert(row: dict[str, Any], fmt: str, reasoning: str | None = None) -> Any:
    return convert(row, ImportSettings("raw", "c", "Terminal & Coding", "script_writing", fmt, reasoning))


def test_raw_glm_values_typed_by_the_rows_tools_and_ids_assigned() -> None:
    row = {
        "tools": TOOLS,
        "messages": [
            {"role": "user", "content": "Run it."},
            {"role": "assistant", "text": "Thinking.</think><tool_call>terminal<arg_key>command</arg_key>"
             "<arg_value>007</arg_value><arg_key>timeout</arg_key><arg_value>30</arg_value></tool_call>"},
            {"role": "tool", "content": "ok"},
            {"role": "assistant", "text": "Done."},
        ],
    }  # fmt: skip
    episode = _convert(row, "glm47", "think")
    turn = episode.messages[1]
    assert turn.reasoning == "Thinking." and turn.content is None
    assert [(c.id, c.arguments, c.source) for c in turn.tool_calls] == [
        ("call_1_0", {"command": "007", "timeout": 30}, "raw:glm47")
    ]
    assert episode.messages[2].tool_call_id == "call_1_0" and episode.messages[2].name == "terminal"
    assert episode.task.prompt == "Run it." and episode.id  # a stable id from the row


def test_raw_rows_that_cannot_be_read_are_one_clear_problem() -> None:
    with pytest.raises(ImportRowError, match="no 'messages' list"):
        _convert({"text": "hi"}, "hermes")
    with pytest.raises(ImportRowError, match="message 1: tool_call_id 'nope' answers no call"):
        _convert({"messages": [
            {"role": "assistant", "text": '<tool_call>{"name": "terminal", "arguments": {}}</tool_call>'},
            {"role": "tool", "content": "x", "tool_call_id": "nope"}]}, "hermes")  # fmt: skip
    with pytest.raises(ImportRowError, match="'tools' is a string that is not JSON"):
        _convert({"messages": [{"role": "user", "content": "x"}], "tools": "[oops"}, "hermes")
