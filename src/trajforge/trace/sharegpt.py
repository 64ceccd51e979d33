"""Episode <-> published ShareGPT row (FORMAT.md sections 1 and 2)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from trajforge.trace.compaction import apply
from trajforge.trace.model import Episode, Message, TaskRef, ToolCall
from trajforge.trace.turns import (
    CONTENT_TAGS,
    REASONING_TAGS,
    TurnFormatError,
    build_gpt,
    build_system,
    build_tool,
    dumps,
    order_problems,
    split_gpt,
    split_system,
    split_tool,
)

COLUMNS = ("id", "conversations", "tools", "category", "subcategory", "task")
ROLE_OF_FROM = {"system": "system", "human": "user", "gpt": "assistant", "tool": "tool"}


class RenderError(ValueError):
    """The episode cannot be laid out as a row (tag collision, unpaired results...)."""


class ParseError(ValueError):
    """The row does not follow FORMAT.md; `turn` is the conversation index when known."""

    def __init__(self, reason: str, turn: int | None = None) -> None:
        super().__init__(reason if turn is None else f"turn {turn}: {reason}")
        self.reason = reason
        self.turn = turn


@dataclass(frozen=True)
class Collision:
    """A text that holds a tag the layout uses, so the turn would be ambiguous."""

    message_index: int
    field: str  # "reasoning" or "content"
    tag: str


def tag_collisions(episode: Episode) -> list[Collision]:
    """Every place an assistant message's reasoning or content holds a layout tag."""
    found: list[Collision] = []
    for index, message in enumerate(episode.messages):
        if message.role != "assistant":
            continue
        for field, text, tags in (
            ("reasoning", message.reasoning, REASONING_TAGS),
            ("content", message.content, CONTENT_TAGS),
        ):
            found.extend(Collision(index, field, tag) for tag in tags if text and tag in text)
    return found


def render(episode: Episode) -> dict[str, Any]:
    """The published row of an episode, exact to FORMAT.md section 2.

    Raises RenderError on a tag collision, a tool result that answers no call of
    the preceding assistant turn, or a call left without a result.
    """
    collisions = tag_collisions(episode)
    if collisions:
        first = collisions[0]
        raise RenderError(f"tag collision: message {first.message_index} {first.field} contains {first.tag}")
    # a compacted episode is published as the model last saw it: the summary turn in place of the span
    messages = apply(episode.messages, episode.compactions[-1] if episode.compactions else None)
    start = 1 if messages and messages[0].role == "system" else 0
    conversations = [{"from": "system", "value": build_system(messages[0].content if start else None, episode.tools)}]
    pending: list[ToolCall] = []
    results: dict[str, Message] = {}
    for index, message in enumerate(messages[start:], start):
        if message.role != "tool" and pending:
            conversations.append(_tool_turn(pending, results, index))
            pending, results = [], {}
        if message.role == "user":
            conversations.append({"from": "human", "value": message.content or ""})
        elif message.role == "assistant":
            calls = [(call.name, call.arguments) for call in message.tool_calls]
            conversations.append({"from": "gpt", "value": build_gpt(message.reasoning, message.content, calls)})
            pending = list(message.tool_calls)
        elif message.role == "tool":
            if message.tool_call_id is None or all(call.id != message.tool_call_id for call in pending):
                raise RenderError(f"message {index}: tool result {message.tool_call_id!r} answers no pending call")
            if message.tool_call_id in results:
                raise RenderError(f"message {index}: second result for call {message.tool_call_id!r}")
            results[message.tool_call_id] = message
        else:
            raise RenderError(f"message {index}: a {message.role} message after the start")
    if pending:
        conversations.append(_tool_turn(pending, results, len(messages)))
    kinds = [turn["from"] for turn in conversations]
    for at in range(len(kinds) - 1):  # a gpt turn with calls is the one a tool turn answers
        if kinds[at] == "gpt" and kinds[at + 1] == "tool":
            kinds[at] = "gpt+"
    for index, reason in order_problems(kinds):
        raise RenderError(f"turn {index}: {reason}")
    task = next((turn["value"] for turn in conversations if turn["from"] == "human"), episode.task.prompt)
    return {
        "id": episode.id,
        "conversations": conversations,
        "tools": dumps(episode.tools),
        "category": episode.task.category,
        "subcategory": episode.task.subcategory,
        "task": task,
    }


def _tool_turn(calls: list[ToolCall], results: dict[str, Message], index: int) -> dict[str, str]:
    """One tool turn, results in the order of the calls (paired by id, not arrival)."""
    missing = [call.id for call in calls if call.id not in results]
    if missing:
        raise RenderError(f"before message {index}: calls without a result: {', '.join(missing)}")
    return {"from": "tool", "value": build_tool([(c.id, c.name, results[c.id].content or "") for c in calls])}


def parse(row: Mapping[str, Any]) -> Episode:
    """The episode a published row describes; the inverse of `render`.

    Tools come from the `tools` column, else from the system turn's tool block.
    Raises ParseError naming the turn on any departure from FORMAT.md.
    """
    conversations = row.get("conversations")
    if not isinstance(conversations, list) or not conversations:
        raise ParseError("conversations is not a non-empty list")
    turns = [_turn(index, turn) for index, turn in enumerate(conversations)]
    if turns[0][0] != "system":
        raise ParseError("first turn is not system", 0)
    system = split_system(turns[0][1])
    messages = [Message(role="system", content=system.prompt)]
    for index, (source, value) in enumerate(turns[1:], 1):
        if source == "human":
            messages.append(Message(role="user", content=value))
        elif source == "gpt":
            messages.append(_assistant(index, value, turns))
        elif source == "tool":
            messages.extend(_tool_messages(index, value, messages[-1]))
        else:
            raise ParseError("a second system turn", index)
    category, subcategory, task = (str(row.get(key) or "") for key in ("category", "subcategory", "task"))
    return Episode(
        id=str(row.get("id") or ""),
        task=TaskRef(id="", category=category, subcategory=subcategory, prompt=task),
        messages=messages,
        tools=_tools_of(row.get("tools"), system.tools),
    )


def _turn(index: int, turn: Any) -> tuple[str, str]:
    if not isinstance(turn, Mapping) or not isinstance(turn.get("value"), str):
        raise ParseError("turn is not an object with a string 'value'", index)
    source = turn.get("from")
    if source not in ROLE_OF_FROM:
        raise ParseError(f"unknown 'from' {source!r}", index)
    return source, turn["value"]


def _assistant(index: int, value: str, turns: list[tuple[str, str]]) -> Message:
    try:
        gpt = split_gpt(value)
    except TurnFormatError as exc:
        raise ParseError(str(exc), index) from None
    # The gpt turn names no ids: they come from the tool turn that answers it.
    answered = index + 1 < len(turns) and turns[index + 1][0] == "tool"
    ids = _response_ids(index + 1, turns[index + 1][1]) if answered else []
    calls = []
    for k, block in enumerate(gpt.calls):
        call_id = block.id or (ids[k] if k < len(ids) else f"call_{index}_{k}")
        calls.append(ToolCall(id=call_id, name=block.name, arguments=block.arguments))
    return Message(role="assistant", content=gpt.content, reasoning=gpt.reasoning, tool_calls=calls)


def _response_ids(index: int, value: str) -> list[str]:
    try:
        return [response.tool_call_id for response in split_tool(value)]
    except TurnFormatError as exc:
        raise ParseError(str(exc), index) from None


def _tool_messages(index: int, value: str, previous: Message) -> list[Message]:
    if previous.role != "assistant" or not previous.tool_calls:
        raise ParseError("tool turn does not follow a gpt turn with tool calls", index)
    try:
        responses = split_tool(value)
    except TurnFormatError as exc:
        raise ParseError(str(exc), index) from None
    calls = previous.tool_calls
    if len(responses) != len(calls):
        raise ParseError(f"{len(responses)} tool responses for {len(calls)} calls", index)
    for k, (call, response) in enumerate(zip(calls, responses, strict=True), 1):
        if response.tool_call_id != call.id:
            raise ParseError(f"tool response {k} id {response.tool_call_id!r} is not call id {call.id!r}", index)
        if response.name != call.name:
            raise ParseError(f"tool response {k} name {response.name!r} is not call name {call.name!r}", index)
    return [Message(role="tool", content=r.content, tool_call_id=r.tool_call_id, name=r.name) for r in responses]


def _tools_of(column: Any, from_system: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    if isinstance(column, str):
        try:
            tools = orjson.loads(column)
        except orjson.JSONDecodeError:
            tools = None
        if isinstance(tools, list) and tools:
            return tools
    return from_system or []
