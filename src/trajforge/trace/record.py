"""Episode <-> episode record, the JSON object of one JSONL line (FORMAT.md section 3)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from trajforge.trace.model import (
    CallTiming,
    Compaction,
    Episode,
    Finish,
    Flag,
    Message,
    ModelInfo,
    Outcome,
    TaskRef,
    Timing,
    ToolCall,
    Usage,
)


class RecordError(ValueError):
    """An episode record is missing a field or has one of the wrong type."""


def to_record(episode: Episode) -> dict[str, Any]:
    """The JSON-ready record of an episode; `from_record` reverses it exactly."""
    return {
        "id": episode.id,
        "task": {
            "id": episode.task.id,
            "category": episode.task.category,
            "subcategory": episode.task.subcategory,
            "prompt": episode.task.prompt,
        },
        "config": episode.config,
        "model": {"name": episode.model.name, "endpoint": episode.model.endpoint, "sampling": episode.model.sampling},
        "messages": [_message_record(m) for m in episode.messages],
        "tools": episode.tools,
        "finish": episode.finish.value,
        "error": episode.error,
        "outcome": episode.outcome.value,
        "usage": [{"prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens} for u in episode.usage],
        "timing": {
            "model_calls": episode.timing.model_calls,
            "tool_calls": [
                {"tool_call_id": t.tool_call_id, "name": t.name, "seconds": t.seconds}
                for t in episode.timing.tool_calls
            ],
        },
        "flags": [flag.value for flag in episode.flags],
        "started_at": episode.started_at,
        "wall_seconds": episode.wall_seconds,
        "check_output": episode.check_output,
        "run": episode.run,
        "compactions": [dataclasses.asdict(c) for c in episode.compactions],
    }


def _message_record(message: Message) -> dict[str, Any]:
    record: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.role == "assistant":
        record["reasoning"] = message.reasoning
        record["tool_calls"] = [_call_record(call) for call in message.tool_calls]
    if message.role == "tool":
        record["tool_call_id"] = message.tool_call_id
        record["name"] = message.name
    return record


def _call_record(call: ToolCall) -> dict[str, Any]:
    record: dict[str, Any] = {"id": call.id, "name": call.name, "arguments": call.arguments}
    if call.raw_arguments is not None:
        record["raw_arguments"] = call.raw_arguments
    if call.source is not None:
        record["source"] = call.source
    return record


def from_record(record: Mapping[str, Any]) -> Episode:
    """Rebuild an episode from its record; raises RecordError naming the bad field."""
    try:
        task, model, timing = record["task"], record.get("model") or {}, record.get("timing") or {}
        return Episode(
            id=str(record["id"]),
            task=TaskRef(
                id=str(task.get("id", "")),
                category=task["category"],
                subcategory=task["subcategory"],
                prompt=task["prompt"],
            ),
            config=record.get("config", ""),
            model=ModelInfo(model.get("name", ""), model.get("endpoint", ""), dict(model.get("sampling") or {})),
            messages=[_message(m) for m in record["messages"]],
            tools=list(record.get("tools") or []),
            finish=Finish(record.get("finish", "stop")),
            error=record.get("error"),
            outcome=Outcome(record.get("outcome", "none")),
            usage=[Usage(u.get("prompt_tokens"), u.get("completion_tokens")) for u in record.get("usage") or []],
            timing=Timing(
                model_calls=[float(s) for s in timing.get("model_calls") or []],
                tool_calls=[
                    CallTiming(t["tool_call_id"], t["name"], float(t["seconds"]))
                    for t in timing.get("tool_calls") or []
                ],
            ),
            flags=[Flag(f) for f in record.get("flags") or []],
            started_at=record.get("started_at"),
            wall_seconds=record.get("wall_seconds"),
            check_output=record.get("check_output"),
            run=dict(record.get("run") or {}),
            compactions=[Compaction(**c) for c in record.get("compactions") or []],
        )
    except KeyError as exc:
        raise RecordError(f"missing field {exc.args[0]!r}") from None
    except (TypeError, ValueError, AttributeError) as exc:
        raise RecordError(str(exc)) from None


def _message(record: Mapping[str, Any]) -> Message:
    calls = [
        ToolCall(c["id"], c["name"], dict(c.get("arguments") or {}), c.get("raw_arguments"), c.get("source"))
        for c in record.get("tool_calls") or []
    ]
    return Message(
        role=record["role"],
        content=record.get("content"),
        reasoning=record.get("reasoning"),
        tool_calls=calls,
        tool_call_id=record.get("tool_call_id"),
        name=record.get("name"),
    )
