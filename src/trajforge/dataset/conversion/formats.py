"""Training formats an episode converts to, one function each: OpenAI messages, LLaMA-Factory, FORMAT.md rows.

- `openai`: `{"id", "messages", "tools", "category", "subcategory"}` where
  messages are OpenAI chat messages (assistant `tool_calls` with `id`,
  `type: function`, `function.name`, `function.arguments`; `tool` messages
  with `tool_call_id`), the reasoning in the field `reasoning_field` names,
  and `tools` the OpenAI tool definitions: the shape TRL's SFTTrainer and
  Hugging Face chat templates take. Arguments are objects (what chat
  templates expect) or, with `arguments_as_string`, JSON strings (what the
  OpenAI API sends).
- `llamafactory`: LLaMA-Factory's ShareGPT form, `{"conversations",
  "system", "tools"}` with `human`, `gpt`, `function_call` and `observation`
  turns. A turn's reasoning goes first as a `<think>` block (which
  LLaMA-Factory's templates strip into the thought). Parallel calls are one
  `function_call` turn holding a JSON list, their results one `observation`
  turn holding a JSON list of the results in call order. Visible text that
  came with tool calls has no place in that form and is dropped.
- `sharegpt-jsonl`: the FORMAT.md row itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from trajforge.trace import Episode, Message
from trajforge.trace.turns import json_bytes


@dataclass(frozen=True)
class ExportOptions:
    """Choices of the converted form."""

    reasoning_field: str = "reasoning_content"  # "" leaves reasoning out
    arguments_as_string: bool = False


def to_openai(episode: Episode, row: dict[str, Any], options: ExportOptions) -> dict[str, Any]:
    """The episode as OpenAI chat messages plus tool definitions."""
    messages: list[dict[str, Any]] = []
    for message in episode.messages:
        if message.role == "assistant":
            messages.append(_openai_assistant(message, options))
        elif message.role == "tool":
            messages.append({"role": "tool", "tool_call_id": message.tool_call_id, "content": message.content or ""})
        else:
            messages.append({"role": message.role, "content": message.content or ""})
    return {
        "id": row["id"],
        "messages": messages,
        "tools": _openai_tools(episode.tools),
        "category": row["category"],
        "subcategory": row["subcategory"],
    }


def _openai_assistant(message: Message, options: ExportOptions) -> dict[str, Any]:
    out: dict[str, Any] = {"role": "assistant", "content": message.content or ""}
    if options.reasoning_field and message.reasoning:
        out[options.reasoning_field] = message.reasoning
    if message.tool_calls:
        out["tool_calls"] = [
            call.to_openai(_json(call.arguments) if options.arguments_as_string else call.arguments)
            for call in message.tool_calls
        ]
    return out


def _openai_tools(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tool definitions in the OpenAI form, whether recorded with or without the `function` wrapper."""
    return [tool if "function" in tool else {"type": "function", "function": tool} for tool in tools]


def to_llamafactory(episode: Episode, row: dict[str, Any], options: ExportOptions) -> dict[str, Any]:
    """The episode in LLaMA-Factory's ShareGPT form with function_call and observation turns."""
    system = ""
    turns: list[dict[str, str]] = []
    pending: list[Message] = []
    order: list[str] = []  # call ids of the last assistant turn: results go in this order, not arrival order
    for message in episode.messages:
        if message.role != "tool" and pending:
            turns.append(_observation(pending, order))
            pending = []
        if message.role == "system":
            system = message.content or ""
        elif message.role == "user":
            turns.append({"from": "human", "value": message.content or ""})
        elif message.role == "assistant":
            show = options.reasoning_field and message.reasoning
            think = f"<think>\n{message.reasoning}\n</think>\n\n" if show else ""
            if message.tool_calls:
                order = [c.id for c in message.tool_calls]
                calls = [{"name": c.name, "arguments": c.arguments} for c in message.tool_calls]
                value = calls[0] if len(calls) == 1 else calls
                turns.append({"from": "function_call", "value": think + _json(value)})
            else:
                turns.append({"from": "gpt", "value": think + (message.content or "")})
        else:
            pending.append(message)
    if pending:
        turns.append(_observation(pending, order))
    return {
        "id": row["id"],
        "conversations": turns,
        "system": system,
        "tools": _json([tool.get("function", tool) for tool in episode.tools]),
        "category": row["category"],
        "subcategory": row["subcategory"],
    }


def _observation(results: list[Message], order: list[str]) -> dict[str, str]:
    rank = {call_id: k for k, call_id in enumerate(order)}
    results = sorted(results, key=lambda m: rank.get(m.tool_call_id or "", len(rank)))
    if len(results) == 1:
        return {"from": "observation", "value": results[0].content or ""}
    return {"from": "observation", "value": _json([r.content or "" for r in results])}


def _json(value: Any) -> str:
    return json_bytes(value).decode()


def to_sharegpt(episode: Episode, row: dict[str, Any], options: ExportOptions) -> dict[str, Any]:
    """The FORMAT.md row."""
    return row


FORMATS: dict[str, Callable[[Episode, dict[str, Any], ExportOptions], dict[str, Any]]] = {
    "openai": to_openai,
    "llamafactory": to_llamafactory,
    "sharegpt-jsonl": to_sharegpt,
}
