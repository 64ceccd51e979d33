"""`import --from raw`: raw generations (the prompt messages plus each assistant turn's generated text) to episodes.

Input: JSONL (or Parquet) rows shaped like this, one episode a row:

    {"id": "...",                      # optional; else a stable hash of the row
     "messages": [
       {"role": "system", "content": "..."},
       {"role": "user", "content": "..."},
       {"role": "assistant", "text": "<think>...</think>...<tool_call>...</tool_call>"},
       {"role": "tool", "content": "...", "tool_call_id": "..."},   # id and name optional
       ...],
     "tools": [{"type": "function", "function": {...}}, ...],       # or a JSON string of that list
     "category": "...", "subcategory": "...", "completed": true}   # optional

Each assistant `text` is what the model generated, read with the tool format (`--tool-format`,
vLLM's parser names) and the reasoning style (`--reasoning-parser`) into reasoning, content
and calls; the calls record `source: "raw:FMT"`. An assistant message without `text` is read
as an OpenAI message (`content`, `tool_calls`, `reasoning_content`). A tool message answers a
call of the assistant turn before it: by `tool_call_id` when it names one, else the first call
not yet answered (and takes its id and name). What the format could not read stays in the
turn's content; the lines that say so are kept in the record under `run.import.problems`.
"""

from __future__ import annotations

from typing import Any

from trajforge.dataset.conversion.importers import ImportRowError, _openai_message
from trajforge.trace import Episode, Message, TaskRef, textformats
from trajforge.trace.turns import loads


def from_raw(row: dict[str, Any], fmt: str, reasoning: str | None = None) -> Episode:
    """One raw-generation row as an episode (task, id and config are the caller's to set).

    `reasoning` is a reasoning style (textformats.REASONING_STYLES or "none"); None: the format's usual one.
    """
    raw = row.get("messages")
    if not isinstance(raw, list) or not raw:
        raise ImportRowError("no 'messages' list")
    tools = _tools(row.get("tools"))
    style = textformats.FORMAT_DEFAULT if reasoning is None else reasoning
    messages: list[Message] = []
    problems: list[str] = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or item.get("role") not in ("system", "user", "assistant", "tool"):
            raise ImportRowError(f"message {index}: not a system, user, assistant or tool message")
        if item["role"] == "assistant":
            messages.append(_assistant(index, item, fmt, tools, style, problems))
        elif item["role"] == "tool":
            messages.append(_tool(index, item, messages))
        else:
            messages.append(_openai_message(index, item))
    episode = Episode(id="", task=TaskRef("", "", "", ""), messages=messages, tools=tools)
    episode.run["import"] = {"source": "raw", "tool_format": fmt, "reasoning": style, "problems": problems}
    return episode


def _assistant(
    index: int, item: dict[str, Any], fmt: str, tools: list[dict[str, Any]], style: str, problems: list[str]
) -> Message:
    text = item.get("text")
    if text is None:  # already parsed: an OpenAI message
        return _openai_message(index, item)
    if not isinstance(text, str):
        raise ImportRowError(f"message {index}: 'text' is not a string")
    parsed = textformats.parse(fmt, text, tools, reasoning=style)
    problems.extend(f"message {index}: {problem}" for problem in parsed.problems)
    return textformats.assistant_message(parsed, f"raw:{fmt}", id_prefix=f"call_{index}_")


def _tool(index: int, item: dict[str, Any], messages: list[Message]) -> Message:
    """A tool result, paired with a call of the last assistant turn (by id, else the first unanswered one)."""
    at = next((i for i in range(len(messages) - 1, -1, -1) if messages[i].role == "assistant"), None)
    turn = messages[at] if at is not None else None
    if at is None or turn is None or not turn.tool_calls:
        raise ImportRowError(f"message {index}: a tool result with no tool call before it")
    answered = {m.tool_call_id for m in messages[at + 1 :] if m.role == "tool"}
    wanted = item.get("tool_call_id")
    if wanted:
        call = next((c for c in turn.tool_calls if c.id == wanted), None)
        if call is None:
            raise ImportRowError(f"message {index}: tool_call_id {wanted!r} answers no call of the turn before it")
    else:
        call = next((c for c in turn.tool_calls if c.id not in answered), None)
        if call is None:
            raise ImportRowError(f"message {index}: more tool results than the turn before it made calls")
    result = _openai_message(index, item)
    return Message("tool", content=result.content or "", tool_call_id=call.id, name=call.name)


def _tools(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if isinstance(value, str):
        try:
            value = loads(value)
        except ValueError:
            raise ImportRowError("'tools' is a string that is not JSON") from None
    if not isinstance(value, list) or not all(isinstance(tool, dict) for tool in value):
        raise ImportRowError("'tools' is not a list of tool definitions")
    return value
