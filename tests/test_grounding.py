"""The grounding lint: numbers and names an answer states must appear in what the episode saw."""

from __future__ import annotations

from trajforge.tasks.grounding import deferring_phrases, episode_grounding_problems, grounding_problems
from trajforge.trace import Episode, Message, TaskRef, ToolCall


def test_values_not_in_any_tool_result_are_named() -> None:
    problems = grounding_problems("There are 6 Python files with 92 lines.", ["5 files\n77 total"])
    assert problems == ["states what no tool result or prompt shows: 6, 92"]


def test_numbers_compare_by_value_and_addresses_as_names() -> None:
    sources = ["total 1234.50 from 10.0.0.5, at 09:05"]
    assert grounding_problems("Total 1,234.5 from 10.0.0.5 at 9:05.", sources) == []
    assert grounding_problems("Top client 10.0.0.6.", sources) == [
        "states what no tool result or prompt shows: 10.0.0.6"
    ]


def test_see_above_is_flagged() -> None:
    assert deferring_phrases("The counts are shown above; see the list above.") == ["shown above", "see the list above"]
    assert grounding_problems("It is above the limit: 3 of 3.", ["3"]) == []


def test_an_episode_answer_is_grounded_by_decoded_tool_output_and_its_own_arguments() -> None:
    call = ToolCall("c1", "terminal", {"command": "wc -l app.py"})
    messages = [
        Message(role="user", content="Count the lines."),
        Message(role="assistant", tool_calls=[call]),
        Message(role="tool", tool_call_id="c1", content='{"output": "26\\n77 app.py\\n", "exit_code": 0}'),
        Message(role="assistant", content="`app.py` has 77 lines (wc -l app.py); the first is 26."),
    ]
    episode = Episode(id="e", task=TaskRef("t", "Terminal & Coding", "script_writing", "x"), messages=messages)
    assert episode_grounding_problems(episode) == []
    messages[-1] = Message(role="assistant", content="`main.py` has 92 lines.")
    assert episode_grounding_problems(episode) == ["states what no tool result or prompt shows: main.py, 92"]
