"""Training formats an episode converts to, one function each: OpenAI messages, LLaMA-Factory, FORMAT.md rows.

- `openai`: `{"id", "messages", "tools", "category", "subcategory"}` where
  messages are OpenAI chat messages (assistant `tool_calls` with `id`,
  `type: function`, `function.name`, `function.arguments`; `tool` messages
  with `tool_call_id`), the reasoning in the field `reasoning_field` names,
  and `tools` the OpenAI tool definitions: the shape TRL's SFTTrainer and
  Hugging Face chat templates take. Arguments are objects (what chat
  templates expect) or, with `arguments_as_string`, JSON strings (what the
  OpenAI API sends); `tools_as_string` writes `tools` as one JSON string
  (TRL accepts that), for readers that cannot declare `datasets.Json`. With
  `tool_call_ids="mistral"` call ids are nine alphanumeric characters, the
  only ids Mistral's chat templates accept.
- `llamafactory`: LLaMA-Factory's ShareGPT form, `{"conversations",
  "system", "tools"}` with `human`, `gpt`, `function_call` and `observation`
  turns. Reasoning (`reasoning`): `keep` puts a turn's reasoning first as a
  `<think>` block, which templates built on LLaMA-Factory's default Template
  strip into the thought (qwen3, glm4, deepseek3, ...); `drop` leaves it out,
  for the templates whose function formatter reads the whole turn as JSON
  (those built on Llama2Template: mistral, ministral, llama2, ...); `separate`
  keeps `<think>` blocks in final answers only and writes every turn's
  reasoning to a `reasoning` column (turn index -> text), so function_call
  turns are pure JSON for every template. Parallel calls are one
  `function_call` turn holding a JSON list; their results one `observation`
  turn, joined in call order with `</tool_response>`/`<tool_response>` lines
  as LLaMA-Factory's own OpenAI converter joins them. Visible text that came
  with tool calls has no place in that form and is dropped.
- `sharegpt-jsonl`: the FORMAT.md row itself.
"""

from __future__ import annotations

import hashlib
import string
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from trajforge.trace import Episode, Message
from trajforge.trace.turns import json_bytes


class Format(StrEnum):
    """The formats `export` writes."""

    OPENAI = "openai"
    LLAMAFACTORY = "llamafactory"
    SHAREGPT = "sharegpt-jsonl"


class Reasoning(StrEnum):
    """Where an LLaMA-Factory export puts reasoning."""

    KEEP = "keep"
    DROP = "drop"
    SEPARATE = "separate"


class CallIds(StrEnum):
    """How exported tool-call ids are written."""

    KEEP = "keep"  # as recorded
    MISTRAL = "mistral"  # nine alphanumeric characters, derived from the recorded id


@dataclass(frozen=True)
class ExportOptions:
    """Choices of the converted form."""

    reasoning_field: str = "reasoning_content"  # "" leaves reasoning out
    arguments_as_string: bool = False
    tools_as_string: bool = False
    reasoning: Reasoning = Reasoning.KEEP
    tool_call_ids: CallIds = CallIds.KEEP


def to_openai(episode: Episode, row: dict[str, Any], options: ExportOptions) -> dict[str, Any]:
    """The episode as OpenAI chat messages plus tool definitions."""
    ids = _call_ids(episode, options.tool_call_ids)
    messages: list[dict[str, Any]] = []
    for message in episode.messages:
        if message.role == "assistant":
            messages.append(_openai_assistant(message, options, ids))
        elif message.role == "tool":
            call_id = ids.get(message.tool_call_id or "", message.tool_call_id)
            messages.append({"role": "tool", "tool_call_id": call_id, "content": message.content or ""})
        else:
            messages.append({"role": message.role, "content": message.content or ""})
    tools = _openai_tools(episode.tools)
    return {
        "id": row["id"],
        "messages": messages,
        "tools": _json(tools) if options.tools_as_string else tools,
        "category": row["category"],
        "subcategory": row["subcategory"],
    }


def _openai_assistant(message: Message, options: ExportOptions, ids: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {"role": "assistant", "content": message.content or ""}
    if options.reasoning_field and message.reasoning:
        out[options.reasoning_field] = message.reasoning
    if message.tool_calls:
        out["tool_calls"] = []
        for call in message.tool_calls:
            written = call.to_openai(_json(call.arguments) if options.arguments_as_string else call.arguments)
            written["id"] = ids.get(call.id, call.id)
            out["tool_calls"].append(written)
    return out


_ALPHANUMERIC = string.ascii_letters + string.digits


def _call_ids(episode: Episode, style: CallIds) -> dict[str, str]:
    """Recorded call id -> the id written; empty when ids are kept.

    Mistral ids are derived from the episode and call ids (the same export gives the same ids),
    distinct within the episode.
    """
    if style is CallIds.KEEP:
        return {}
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for message in episode.messages:
        for call in message.tool_calls:
            salt = 0
            while True:
                digest = hashlib.blake2b(f"{episode.id}/{call.id}/{salt}".encode(), digest_size=16).digest()
                value = int.from_bytes(digest, "big")
                short = "".join(_ALPHANUMERIC[(value >> (6 * k)) % 62] for k in range(9))
                if short not in taken:
                    break
                salt += 1
            ids[call.id] = short
            taken.add(short)
    return ids


def _openai_tools(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tool definitions in the OpenAI form, whether recorded with or without the `function` wrapper."""
    return [tool if "function" in tool else {"type": "function", "function": tool} for tool in tools]


def to_llamafactory(episode: Episode, row: dict[str, Any], options: ExportOptions) -> dict[str, Any]:
    """The episode in LLaMA-Factory's ShareGPT form with function_call and observation turns."""
    system = ""
    turns: list[dict[str, str]] = []
    pending: list[Message] = []
    order: list[str] = []  # call ids of the last assistant turn: results go in this order, not arrival order
    reasoning: dict[str, str] = {}  # turn index -> reasoning, for Reasoning.SEPARATE
    for message in episode.messages:
        if message.role != "tool" and pending:
            turns.append(_observation(pending, order))
            pending = []
        if message.role == "system":
            system = message.content or ""
        elif message.role == "user":
            turns.append({"from": "human", "value": message.content or ""})
        elif message.role == "assistant":
            if message.reasoning and options.reasoning_field and options.reasoning is not Reasoning.DROP:
                reasoning[str(len(turns))] = message.reasoning
            inline = options.reasoning is Reasoning.KEEP or (
                options.reasoning is Reasoning.SEPARATE and not message.tool_calls
            )
            show = options.reasoning_field and message.reasoning and inline
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
    out = {
        "id": row["id"],
        "conversations": turns,
        "system": system,
        "tools": _json([tool.get("function", tool) for tool in episode.tools]),
        "category": row["category"],
        "subcategory": row["subcategory"],
    }
    if options.reasoning is Reasoning.SEPARATE:
        out["reasoning"] = _json(reasoning)  # a JSON string: the same type in every row, whatever its turns
    return out


def _observation(results: list[Message], order: list[str]) -> dict[str, str]:
    rank = {call_id: k for k, call_id in enumerate(order)}
    results = sorted(results, key=lambda m: rank.get(m.tool_call_id or "", len(rank)))
    # joined as LLaMA-Factory's OpenAI converter joins consecutive tool messages: a JSON list of strings
    # would reach the template as one twice-encoded text
    return {"from": "observation", "value": OBSERVATION_JOIN.join(r.content or "" for r in results)}


OBSERVATION_JOIN = "\n</tool_response>\n<tool_response>\n"


def _json(value: Any) -> str:
    return json_bytes(value).decode()


def to_sharegpt(episode: Episode, row: dict[str, Any], options: ExportOptions) -> dict[str, Any]:
    """The FORMAT.md row."""
    return row


FORMATS: dict[Format, Callable[[Episode, dict[str, Any], ExportOptions], dict[str, Any]]] = {
    Format.OPENAI: to_openai,
    Format.LLAMAFACTORY: to_llamafactory,
    Format.SHAREGPT: to_sharegpt,
}
NEEDS_ROW = frozenset({Format.SHAREGPT})
"""Formats that write the FORMAT.md row, which must then be laid out in full."""
