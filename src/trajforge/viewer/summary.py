"""The small per-row facts the list filters and sorts on, and the text the search looks through.

Read once per row when the index is built, from a FORMAT.md row or an episode
record (FORMAT.md sections 1 and 3). Nothing here raises on a malformed row:
what cannot be split is counted from the raw text and named in `problem`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trajforge.trace import TurnFormatError, split_gpt, split_tool
from trajforge.trace.turns import CALL_OPEN, json_bytes

TASK_CHARS = 240  # of the task kept in the index, for the list


@dataclass
class Summary:
    """One row's facts; `text` is the searchable text, already case-folded."""

    id: str = ""
    category: str = ""
    subcategory: str = ""
    task: str = ""
    task_key: str = ""
    turns: int = 0
    calls: int = 0
    think: float = 0.0
    tokens: int = 0
    tokens_measured: bool = False
    tools: list[str] = field(default_factory=list)
    tool_calls: list[int] = field(default_factory=list)
    """Calls of each tool in `tools`."""
    finish: str = ""
    outcome: str = ""
    flags: list[str] = field(default_factory=list)
    model: str = ""
    problem: str = ""
    text: str = ""


class _Reader:
    """Collects think depths, tool names and searchable text while a row is walked."""

    def __init__(self) -> None:
        self.think_words: list[int] = []
        self.tools: dict[str, int] = {}
        self.parts: list[str] = []
        self.chars = 0  # of the whole trace, system prompt and tool definitions included: the token estimate

    def reasoning(self, text: str | None) -> None:
        words = len(text.split()) if text else 0
        if words:
            self.think_words.append(words)
            self.parts.append(text or "")

    def call(self, name: str, arguments: Any) -> None:
        self.tools[name] = self.tools.get(name, 0) + 1
        self.parts.append(name)
        self.parts.append(arguments if isinstance(arguments, str) else json_bytes(arguments).decode())

    def finish(self, summary: Summary) -> Summary:
        if not summary.tokens_measured:
            summary.tokens = self.chars // 4
        words = self.think_words
        summary.think = sum(words) / len(words) if words else 0.0
        summary.tools, summary.tool_calls = list(self.tools), list(self.tools.values())
        summary.text = "\n".join(p for p in self.parts if p).casefold()
        return summary


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def summarize(data: Any) -> Summary:
    """The facts of one parsed line or row: an episode record when it has `messages`, else a FORMAT.md row.

    Tokens are the server's usage where the record has it (the largest prompt plus completion of one
    call), else an estimate: a quarter of the characters of the trace's text.
    """
    if not isinstance(data, dict):
        return Summary(problem="not a JSON object")
    summary = _record(data) if isinstance(data.get("messages"), list) else _row(data)
    return summary


def _row(data: dict[str, Any]) -> Summary:
    summary = Summary(
        id=_text(data.get("id")),
        category=_text(data.get("category")),
        subcategory=_text(data.get("subcategory")),
        task=_text(data.get("task"))[:TASK_CHARS],
        task_key=_text(data.get("task")),
    )
    reader = _Reader()
    reader.parts.append(_text(data.get("task")))
    turns = data.get("conversations")
    if not isinstance(turns, list):
        summary.problem = "no conversations list"
        return reader.finish(summary)
    summary.turns = len(turns)
    for index, turn in enumerate(turns):
        source = turn.get("from") if isinstance(turn, dict) else None
        value = _text(turn.get("value")) if isinstance(turn, dict) else ""
        reader.chars += len(value)
        if source == "gpt":
            summary.calls += value.count(CALL_OPEN)
        try:
            _read_turn(reader, source, value)
        except TurnFormatError as exc:
            summary.problem = summary.problem or f"turn {index}: {exc}"
            reader.parts.append(value)
    return reader.finish(summary)


def _read_turn(reader: _Reader, source: Any, value: str) -> None:
    if source == "gpt":
        gpt = split_gpt(value)
        reader.reasoning(gpt.reasoning)
        reader.parts.append(gpt.content or "")
        for call in gpt.calls:
            reader.call(call.name, call.arguments)
    elif source == "tool":
        reader.parts.extend(response.content for response in split_tool(value))
    elif source == "human" and value != reader.parts[0]:  # the first human turn is the task, read already
        reader.parts.append(value)


def _record(data: dict[str, Any]) -> Summary:
    task = _mapping(data.get("task"))
    model = _mapping(data.get("model"))
    prompt = _text(task.get("prompt"))
    summary = Summary(
        id=_text(data.get("id")),
        category=_text(task.get("category")),
        subcategory=_text(task.get("subcategory")),
        task=prompt[:TASK_CHARS],
        task_key=prompt,
        finish=_text(data.get("finish")) or "stop",
        outcome=_text(data.get("outcome")) or "none",
        flags=[f for f in data.get("flags") or [] if isinstance(f, str)],
        model=_text(model.get("name")),
    )
    reader = _Reader()
    reader.parts.append(prompt)
    summary.turns = _record_messages(data["messages"], reader, summary)
    reader.chars = sum(len(p) for p in reader.parts) + len(json_bytes(data.get("tools") or []))
    reader.chars += sum(
        len(_text(m.get("content"))) for m in data["messages"] if isinstance(m, dict) and m.get("role") == "system"
    )
    tokens = [_usage_total(u) for u in data.get("usage") or []]
    if any(tokens):
        summary.tokens, summary.tokens_measured = max(tokens), True
    return reader.finish(summary)


def _record_messages(messages: list[Any], reader: _Reader, summary: Summary) -> int:
    """Walk the messages; returns the number of turns the published row has (one tool turn per call batch)."""
    turns, previous = 1, "system"  # a row always opens with its system turn
    for message in messages:
        if not isinstance(message, dict):
            continue
        role = message.get("role")
        if role in ("user", "assistant") or (role == "tool" and previous != "tool"):
            turns += 1
        previous = role if isinstance(role, str) else ""
        if role == "assistant":
            reader.reasoning(_text(message.get("reasoning")))
            reader.parts.append(_text(message.get("content")))
            for call in message.get("tool_calls") or []:
                if isinstance(call, dict):
                    summary.calls += 1
                    arguments = call.get("raw_arguments") or call.get("arguments")
                    reader.call(_text(call.get("name")), arguments)
        elif role == "tool" or (role == "user" and message.get("content") != reader.parts[0]):
            reader.parts.append(_text(message.get("content")))
    return turns


def _usage_total(usage: Any) -> int:
    if not isinstance(usage, dict):
        return 0
    return sum(v for v in (usage.get("prompt_tokens"), usage.get("completion_tokens")) if isinstance(v, int))
