"""Small hand-made episodes and rows the tests build on."""

from __future__ import annotations

import json
import uuid
from typing import Any

from trajforge.trace import Episode, Message, TaskRef, ToolCall, render


def tool_def(name: str) -> dict[str, Any]:
    """An OpenAI tool definition with one string parameter."""
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": f"The {name} tool.",
            "parameters": {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]},
        },
    }


def sample_episode(episode_id: str | None = None) -> Episode:
    """A two-step terminal episode with parallel calls whose results arrive out of order."""
    calls = [
        ToolCall("call_a", "terminal", {"command": "ls"}),
        ToolCall("call_b", "read_file", {"path": "notes.txt", "nested": {"x": [1, 2.5, None, True]}}),
    ]
    messages = [
        Message(role="system", content="You are a careful agent."),
        Message(role="user", content="List the files and read notes.txt."),
        Message(role="assistant", reasoning="List and read in parallel.", content=None, tool_calls=calls),
        Message(role="tool", content="line one\nline two", tool_call_id="call_b", name="read_file"),
        Message(
            role="tool",
            content=json.dumps({"output": "a\nb\n", "exit_code": 0}),
            tool_call_id="call_a",
            name="terminal",
        ),
        Message(role="assistant", reasoning=None, content="Two files; notes.txt has two lines."),
    ]
    return Episode(
        id=episode_id or str(uuid.uuid4()),
        task=TaskRef("t-1", "Terminal & Coding", "script_writing", "List the files and read notes.txt."),
        messages=messages,
        tools=[tool_def("terminal"), tool_def("read_file")],
    )


def sample_row(episode_id: str | None = None) -> dict[str, Any]:
    """The published row of `sample_episode`."""
    return render(sample_episode(episode_id))
