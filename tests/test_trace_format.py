"""The exact text of FORMAT.md section 2, and rows written by hermes-agent."""

from __future__ import annotations

import json

import pytest

from trajforge.trace import Episode, Message, ParseError, RenderError, TaskRef, ToolCall, parse, render, tag_collisions
from trajforge.trace.turns import TOOLS_EPILOGUE, TOOLS_PREAMBLE, split_gpt, split_tool

from .episodes import sample_episode, tool_def


def test_golden_row() -> None:
    row = render(sample_episode("5b3c1c1e-8d1a-4c53-9f0e-0d6f1f1a2b3c"))
    assert list(row) == ["id", "conversations", "tools", "category", "subcategory", "task"]
    turns = row["conversations"]
    assert [t["from"] for t in turns] == ["system", "human", "gpt", "tool", "gpt"]
    functions = [
        {"name": n, "description": f"The {n} tool.", "parameters": tool_def(n)["function"]["parameters"]}
        for n in ("terminal", "read_file")
    ]
    assert turns[0]["value"] == (
        "You are a careful agent.\n\n" + TOOLS_PREAMBLE + json.dumps(functions, ensure_ascii=False) + TOOLS_EPILOGUE
    )
    assert turns[2]["value"] == (
        "<think>\nList and read in parallel.\n</think>\n"
        '<tool_call>\n{"name": "terminal", "arguments": {"command": "ls"}}\n</tool_call>\n'
        '<tool_call>\n{"name": "read_file", "arguments": {"path": "notes.txt", "nested": {"x": [1, 2.5, null, true]}}}'
        "\n</tool_call>"
    )
    # Results arrived b then a; the tool turn follows the calls' order, with JSON kept as JSON.
    assert turns[3]["value"] == (
        "<tool_response>\n"
        '{"tool_call_id": "call_a", "name": "terminal", "content": {"output": "a\\nb\\n", "exit_code": 0}}\n'
        "</tool_response>\n<tool_response>\n"
        '{"tool_call_id": "call_b", "name": "read_file", "content": "line one\\nline two"}\n'
        "</tool_response>"
    )
    assert turns[4]["value"] == "<think>\n</think>\nTwo files; notes.txt has two lines."
    assert row["task"] == turns[1]["value"] == "List the files and read notes.txt."
    assert json.loads(row["tools"]) == sample_episode().tools


def test_non_canonical_json_result_stays_a_string() -> None:
    episode = sample_episode()
    episode.messages[4].content = '{"output":"compact"}'  # not json.dumps' spacing: kept verbatim
    response = split_tool(render(episode)["conversations"][3]["value"])[0]
    assert response.content == '{"output":"compact"}'
    assert parse(render(episode)).messages[3].content == '{"output":"compact"}'


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("reasoning", "I will write </think> here"),
        ("reasoning", "<think>"),
        ("content", "use <tool_call> tags"),
        ("content", "a </tool_response>"),
        ("content", "<think>x</think>"),
    ],
)
def test_tag_collisions_are_detected_and_refused(field: str, text: str) -> None:
    episode = sample_episode()
    setattr(episode.messages[5], field, text)
    assert {(c.message_index, c.field) for c in tag_collisions(episode)} == {(5, field)}
    with pytest.raises(RenderError, match="tag collision"):
        render(episode)


def test_results_must_pair_with_calls() -> None:
    episode = sample_episode()
    del episode.messages[3]
    with pytest.raises(RenderError, match="without a result: call_b"):
        render(episode)
    episode = sample_episode()
    episode.messages[3].tool_call_id = "call_zzz"
    with pytest.raises(RenderError, match="answers no pending call"):
        render(episode)


def test_reasoning_whitespace_and_empty_think() -> None:
    for reasoning in ["\n", "  spaced  ", "line\n\nline\n"]:
        value = render(_one_turn(reasoning))["conversations"][2]["value"]
        assert split_gpt(value).reasoning == reasoning
    assert render(_one_turn(""))["conversations"][2]["value"] == "<think>\n</think>\nok"


def _one_turn(reasoning: str) -> Episode:
    return Episode(
        id="x",
        task=TaskRef("t", "Conversational", "single_lookup", "q"),
        messages=[
            Message(role="system", content=""),
            Message(role="user", content="q"),
            Message(role="assistant", reasoning=reasoning, content="ok"),
        ],
    )


# A row as hermes-agent's batch runner writes it: no prompt before the tool block,
# "required": null in each function, JSON results inlined, tools column present.
HERMES_ROW = {
    "id": "0f8e2c61-3d0a-4a57-9e47-0c1b2f3a4d5e",
    "conversations": [
        {
            "from": "system",
            "value": TOOLS_PREAMBLE
            + '[{"name": "terminal", "description": "Execute shell commands", "parameters": {"type": "object", '
            '"properties": {"command": {"type": "string"}}}, "required": null}]' + TOOLS_EPILOGUE,
        },
        {"from": "human", "value": "What Python version is installed?"},
        {
            "from": "gpt",
            "value": "<think>\nRun python3 --version.\n</think>\n<tool_call>\n"
            '{"name": "terminal", "arguments": {"command": "python3 --version"}}\n</tool_call>',
        },
        {
            "from": "tool",
            "value": '<tool_response>\n{"tool_call_id": "call_abc", "name": "terminal", '
            '"content": {"output": "Python 3.11.6", "exit_code": 0, "error": null}}\n</tool_response>',
        },
        {"from": "gpt", "value": "<think>\n</think>\nPython 3.11.6 is installed."},
    ],
    "tools": "",
    "category": "Conversational",
    "subcategory": "single_lookup",
    "task": "What Python version is installed?",
}


def test_hermes_agent_row_parses_with_tools_from_the_system_turn() -> None:
    episode = parse(HERMES_ROW)
    assert episode.messages[0].content == ""
    assert [t["function"]["name"] for t in episode.tools] == ["terminal"]
    call = episode.messages[2].tool_calls[0]
    assert (call.id, call.name, call.arguments) == ("call_abc", "terminal", {"command": "python3 --version"})
    result = episode.messages[3]
    assert (result.role, result.tool_call_id, result.name) == ("tool", "call_abc", "terminal")
    assert json.loads(result.content or "") == {"output": "Python 3.11.6", "exit_code": 0, "error": None}


def test_tools_column_wins_over_an_unreadable_system_turn() -> None:
    row = dict(HERMES_ROW, tools=json.dumps([tool_def("terminal")]))
    row["conversations"] = [{"from": "system", "value": "no tool block here"}, *HERMES_ROW["conversations"][1:]]
    episode = parse(row)
    assert episode.messages[0].content == "no tool block here"
    assert episode.tools == [tool_def("terminal")]


def test_parse_names_the_turn_of_a_bad_pairing() -> None:
    row = json.loads(json.dumps(HERMES_ROW))
    row["conversations"][3]["value"] = row["conversations"][3]["value"].replace('"name": "terminal"', '"name": "x"')
    with pytest.raises(ParseError, match="turn 3: tool response 1 name 'x' is not call name 'terminal'"):
        parse(row)


def test_arguments_hold_tags_and_newlines_safely() -> None:
    episode = sample_episode()
    episode.messages[2].tool_calls[0] = ToolCall("call_a", "terminal", {"command": "echo '</tool_call>\n<think>'"})
    back = parse(render(episode))
    assert back.messages[2].tool_calls[0].arguments == {"command": "echo '</tool_call>\n<think>'"}
