"""`import`: trajectories from other harnesses converted into episode records.

- `hermes-agent`: rows of hermes-agent's `batch_runner` (`conversations` of
  system/human/gpt/tool turns). Tools come from the `<tools>` block of the
  system turn. hermes-agent writes no id into `<tool_call>` blocks and names
  each `<tool_response>` after the call at the same position, whatever call
  it answers. Where the response ids carry the function name (Kimi's
  `functions.NAME:N` ids), responses are re-paired with the calls of that
  name by id; otherwise by position. Each result takes its call's name.
  Missing ids are made up per turn; a gpt turn without a think block has no
  reasoning; `completed: false` rows become `interrupted` episodes.
- `openai`: rows of `messages` (OpenAI chat messages with `tool_calls`,
  reasoning in `reasoning_content` or `reasoning` or inline `<think>`) and
  `tools`.
- `sharegpt`: FORMAT.md rows, parsed strictly.
- `raw`: raw generations (prompt messages, each assistant turn's generated text),
  read with a model-native tool format; see `raw.py`.

Each row gives an Episode or a Problem naming file, line and reason. Ids:
the row's `id` when it has one, else a stable hash of the row, so importing
the same file twice gives the same ids.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trajforge.dataset.rows.readers import iter_rows
from trajforge.dataset.rows.schema import Problem
from trajforge.tasks import taxonomy_problem
from trajforge.trace import (
    Episode,
    Finish,
    Message,
    ParseError,
    TaskRef,
    ToolCall,
    parse,
    parse_call,
    split_inline_think,
    split_system,
)
from trajforge.trace.turns import content_text, json_bytes, loads

SOURCES = ("hermes-agent", "openai", "sharegpt", "raw")
_CALL = re.compile(r"<tool_call>\s*(.*?)\s*</tool_call>", re.DOTALL)
_RESPONSE = re.compile(r"<tool_response>\s*(.*?)\s*</tool_response>", re.DOTALL)
_NAMED_ID = re.compile(r"^(?:functions\.)?([A-Za-z0-9_.-]+?):\d+$")  # Kimi K2: functions.read_file:3


class ImportRowError(ValueError):
    """A row that cannot be converted; the message says why."""


@dataclass(frozen=True)
class ImportSettings:
    """Where imported episodes belong."""

    source: str
    config: str
    category: str = ""  # used when a row carries none
    subcategory: str = ""
    tool_format: str = "hermes"  # `raw`: the model-native format of the generated text (trace.textformats)
    reasoning_parser: str | None = None  # `raw`: the reasoning style (None: the format's usual one)


def import_file(path: Path, settings: ImportSettings) -> Iterator[Episode | Problem]:
    """Every row of `path` (JSONL or Parquet) as an episode, or a Problem."""
    if settings.source not in SOURCES:
        raise ValueError(f"unknown source {settings.source!r}: {', '.join(SOURCES)}")
    for item in iter_rows(path):
        if isinstance(item, Problem):
            yield item
            continue
        try:
            yield convert(item.data, settings)
        except (ImportRowError, ParseError) as exc:
            yield Problem(item.file, item.number, str(exc), id=_row_id(item.data))


def convert(row: Any, settings: ImportSettings) -> Episode:
    """One row of `settings.source` as an episode of `settings.config`."""
    if not isinstance(row, dict):
        raise ImportRowError("not a JSON object")
    if settings.source == "sharegpt":
        episode = parse(row)
    elif settings.source == "openai":
        episode = _from_openai(row)
    elif settings.source == "raw":
        from trajforge.dataset.conversion.raw import from_raw  # raw imports this module

        episode = from_raw(row, settings.tool_format, settings.reasoning_parser)
    else:
        episode = _from_hermes(row)
    category = str(row.get("category") or settings.category)
    subcategory = str(row.get("subcategory") or settings.subcategory)
    problem = taxonomy_problem(category, subcategory)
    if problem:
        raise ImportRowError(f"{problem} (give --category and --subcategory for rows without them)")
    first_user = next((m.content for m in episode.messages if m.role == "user"), None)
    episode.task = TaskRef(id="", category=category, subcategory=subcategory, prompt=first_user or "")
    episode.id = _row_id(row) or _stable_id(row)
    episode.config = settings.config
    if row.get("completed") is False or row.get("partial") is True:
        episode.finish = Finish.INTERRUPTED
    return episode


def _row_id(row: Any) -> str | None:
    value = row.get("id") if isinstance(row, dict) else None
    return value if isinstance(value, str) and value else None


def _stable_id(row: dict[str, Any]) -> str:
    digest = hashlib.sha256(json_bytes(row, sort_keys=True)).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-4{digest[13:16]}-a{digest[17:20]}-{digest[20:32]}"


# ---------------------------------------------------------------- OpenAI messages


def _from_openai(row: dict[str, Any]) -> Episode:
    raw = row.get("messages")
    if not isinstance(raw, list) or not raw:
        raise ImportRowError("no 'messages' list")
    messages = [_openai_message(index, m) for index, m in enumerate(raw)]
    tools = row.get("tools") or []
    if isinstance(tools, str):
        tools = loads(tools)
    if not isinstance(tools, list):
        raise ImportRowError("'tools' is not a list")
    return Episode(id="", task=TaskRef("", "", "", ""), messages=messages, tools=tools)


def _openai_message(index: int, data: Any) -> Message:
    if not isinstance(data, dict) or data.get("role") not in ("system", "user", "assistant", "tool"):
        raise ImportRowError(f"message {index}: not a system, user, assistant or tool message")
    role = data["role"]
    content = _text(data.get("content"))
    if role == "tool":
        return Message(role="tool", content=content or "", tool_call_id=str(data.get("tool_call_id") or ""),
                       name=data.get("name"))  # fmt: skip
    if role != "assistant":
        return Message(role=role, content=content)
    reasoning = data.get("reasoning_content") or data.get("reasoning")
    if not reasoning and content:
        reasoning, content = split_inline_think(content)
    calls = [_openai_call(index, k, call) for k, call in enumerate(data.get("tool_calls") or [])]
    return Message(role="assistant", content=content, reasoning=reasoning or None, tool_calls=calls)


def _openai_call(index: int, k: int, data: Any) -> ToolCall:
    function = data.get("function") if isinstance(data, dict) else None
    if not isinstance(function, dict) or not isinstance(function.get("name"), str):
        raise ImportRowError(f"message {index}: tool call {k} has no function name")
    return parse_call(str(data.get("id") or f"call_{index}_{k}"), function["name"], function.get("arguments"))


def _text(content: Any) -> str | None:
    """Message content as text: a string, or the text parts of a content list."""
    if content is None or isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return str(content)


# ---------------------------------------------------------------- hermes-agent

_TOOLS_BLOCK = re.compile(r"<tools>\s*(.*?)\s*</tools>", re.DOTALL)


def hermes_system(value: str) -> tuple[str, list[dict[str, Any]] | None]:
    """(prompt, tools) of a hermes-agent system turn; tools None when it holds no readable `<tools>` block.

    The block is found by its structure, a `<tools>...</tools>` element holding a
    JSON list of functions (or one function object per line), not by the exact
    preamble around it, which differs between harness versions; the prompt is
    the text before the paragraph that holds the block.
    """
    exact = split_system(value)
    if exact.tools is not None:
        return exact.prompt, exact.tools
    for match in reversed(list(_TOOLS_BLOCK.finditer(value))):
        functions = _functions(match.group(1))
        if functions is None:
            continue
        paragraph = value.rfind("\n\n", 0, match.start())
        prompt = value[:paragraph].rstrip() if paragraph >= 0 else ""
        return prompt, [{"type": "function", "function": _function_of(f)} for f in functions]
    return value, None


def _functions(text: str) -> list[dict[str, Any]] | None:
    """A JSON list of function objects, or one object per line; None when `text` is neither."""
    if not text:
        return []
    try:
        value = loads(text)
    except ValueError:
        try:
            value = [loads(line) for line in text.splitlines() if line.strip()]
        except ValueError:
            return None
    value = [value] if isinstance(value, dict) else value
    if not isinstance(value, list) or not all(
        isinstance(f, dict) and isinstance(f.get("name", f.get("function")), (str, dict)) for f in value
    ):
        return None
    return value


def _function_of(tool: dict[str, Any]) -> dict[str, Any]:
    fn = tool.get("function", tool)
    fn = fn if isinstance(fn, dict) else tool
    return {"name": fn.get("name"), "description": fn.get("description", ""), "parameters": fn.get("parameters", {})}


def _from_hermes(row: dict[str, Any]) -> Episode:
    turns = row.get("conversations")
    if not isinstance(turns, list) or not turns:
        raise ImportRowError("no 'conversations' list")
    messages: list[Message] = []
    tools: list[dict[str, Any]] = []
    for index, turn in enumerate(turns):
        if not isinstance(turn, dict) or not isinstance(turn.get("value"), str):
            raise ImportRowError(f"turn {index}: not an object with a string 'value'")
        source, value = turn.get("from"), turn["value"]
        if source == "system":
            prompt, found = hermes_system(value)
            tools = found or []
            messages.append(Message(role="system", content=prompt))
        elif source == "human":
            messages.append(Message(role="user", content=value))
        elif source == "gpt":
            messages.append(_hermes_assistant(index, value))
        elif source == "tool":
            messages.extend(_hermes_results(index, value, messages[-1] if messages else None))
        else:
            raise ImportRowError(f"turn {index}: unknown 'from' {source!r}")
    if isinstance(row.get("tools"), str) and not tools:
        value = loads(row["tools"])
        tools = value if isinstance(value, list) else []
    return Episode(id="", task=TaskRef("", "", "", ""), messages=messages, tools=tools)


def _hermes_assistant(index: int, value: str) -> Message:
    reasoning, rest = split_inline_think(value)
    calls: list[ToolCall] = []
    for k, match in enumerate(_CALL.finditer(rest or "")):
        try:
            data = loads(match.group(1))
        except ValueError:
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            calls.append(ToolCall(id=f"call_{index}_{k}", name="", raw_arguments=match.group(1)))
            continue
        arguments = data.get("arguments")
        call = ToolCall(id=f"call_{index}_{k}", name=data["name"])
        if isinstance(arguments, dict):
            call.arguments = arguments
        else:
            call.raw_arguments = arguments if isinstance(arguments, str) else json_bytes(arguments).decode()
        calls.append(call)
    content = _CALL.sub("", rest or "").strip() or None
    return Message(role="assistant", content=content, reasoning=reasoning, tool_calls=calls)


def _hermes_results(index: int, value: str, previous: Message | None) -> list[Message]:
    if previous is None or previous.role != "assistant" or not previous.tool_calls:
        raise ImportRowError(f"turn {index}: tool turn does not follow a gpt turn with tool calls")
    responses = []
    for match in _RESPONSE.finditer(value):
        try:
            data = loads(match.group(1))
        except ValueError:
            data = None
        if isinstance(data, dict) and "content" in data:
            responses.append((str(data.get("name") or ""), str(data.get("tool_call_id") or ""), data["content"]))
        else:
            responses.append(("", "", match.group(1)))
    calls = previous.tool_calls
    if len(responses) != len(calls):
        raise ImportRowError(f"turn {index}: {len(responses)} tool responses for {len(calls)} calls")
    order = _pair_by_id([response_id for _, response_id, _ in responses], [call.name for call in calls])
    results: list[Message] = []
    for (_, response_id, content), call_index in zip(responses, order, strict=True):
        call = calls[call_index]
        if response_id:
            call.id = response_id
        text = content if isinstance(content, str) else content_text(content)
        results.append(Message(role="tool", content=text, tool_call_id=call.id, name=call.name))
    results.sort(key=lambda m: [c.id for c in calls].index(m.tool_call_id or ""))
    return results


def _pair_by_id(response_ids: list[str], call_names: list[str]) -> list[int]:
    """For each response, the index of the call it answers.

    By the function name in its id when every id carries one and they name the
    calls' functions; else by position (all that hermes-agent's rows tell).
    """
    matches = [_NAMED_ID.match(response_id) for response_id in response_ids]
    names = [m.group(1) for m in matches if m]
    if len(names) != len(call_names) or sorted(names) != sorted(call_names):
        return list(range(len(call_names)))
    free = list(range(len(call_names)))
    order = []
    for name in names:
        match = next(i for i in free if call_names[i] == name)
        free.remove(match)
        order.append(match)
    return order
